# ss_prompb: the C++ code protoc generates from prompb.proto, as collector/remote/prompb.pb.h under the
# build directory. Included by collector/remote/ and by the fuzz build (tests/fuzz/).
find_package(Protobuf REQUIRED)
find_package(Snappy CONFIG REQUIRED)
add_library(ss_prompb STATIC)
protobuf_generate(TARGET ss_prompb LANGUAGE cpp PROTOS ${CMAKE_SOURCE_DIR}/collector/remote/prompb.proto
                  IMPORT_DIRS ${CMAKE_SOURCE_DIR} PROTOC_OUT_DIR ${CMAKE_BINARY_DIR})
target_include_directories(ss_prompb PUBLIC ${CMAKE_BINARY_DIR})  # "collector/remote/prompb.pb.h"
target_compile_options(ss_prompb PRIVATE -w)  # generated code: not ours to fix
target_link_libraries(ss_prompb PUBLIC protobuf::libprotobuf)
