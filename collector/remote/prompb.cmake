# ss_prompb: the C++ code protoc generates from prompb.proto, as collector/remote/prompb.pb.h under the
# build directory. Included by collector/remote/ and by the fuzz build (tests/fuzz/).
# protoc runs by hand: protobuf_generate names its outputs relative to the proto's own directory, so a fresh
# build got build/prompb.pb.h while the code includes collector/remote/prompb.pb.h.
find_package(Protobuf REQUIRED)
find_package(Snappy CONFIG REQUIRED)
set(prompb_out ${CMAKE_BINARY_DIR}/collector/remote)
add_custom_command(
  OUTPUT ${prompb_out}/prompb.pb.cc ${prompb_out}/prompb.pb.h
  COMMAND protobuf::protoc --cpp_out=${CMAKE_BINARY_DIR} -I${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/collector/remote/prompb.proto
  DEPENDS ${CMAKE_SOURCE_DIR}/collector/remote/prompb.proto)
add_library(ss_prompb STATIC ${prompb_out}/prompb.pb.cc)
target_include_directories(ss_prompb PUBLIC ${CMAKE_BINARY_DIR})  # "collector/remote/prompb.pb.h"
target_compile_options(ss_prompb PRIVATE -w)  # generated code: not ours to fix
target_link_libraries(ss_prompb PUBLIC protobuf::libprotobuf)
