// Remote write and remote read bodies: protobuf messages (prompb.proto) compressed with snappy's block
// format. Decoding is pure and bounded: it fails with an Error on anything malformed.
#pragma once

#include <string>
#include <string_view>

#include "collector/remote/prompb.pb.h"
#include "common/result.h"

namespace ss::collector::remote {

inline constexpr size_t kMaxDecodedBytes = size_t(256) << 20;

std::string snappy_message(const google::protobuf::MessageLite& message);

// Uncompresses and parses a snappy-compressed message (uncompressed size at most kMaxDecodedBytes).
Result<void> parse_snappy_message(std::string_view body, google::protobuf::MessageLite& message);

}  // namespace ss::collector::remote
