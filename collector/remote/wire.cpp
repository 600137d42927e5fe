#include "collector/remote/wire.h"

#include <snappy.h>

namespace ss::collector::remote {

std::string snappy_message(const google::protobuf::MessageLite& message) {
  std::string raw = message.SerializeAsString();
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<void> parse_snappy_message(std::string_view body, google::protobuf::MessageLite& message) {
  size_t size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &size))
    return Error{"body is not snappy-compressed (block format)"};
  if (size > kMaxDecodedBytes) return errorf("body uncompresses to {} bytes, more than {}", size, kMaxDecodedBytes);
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) return Error{"body is damaged snappy data"};
  if (!message.ParseFromString(raw)) return errorf("body is not a valid {} protobuf message", message.GetTypeName());
  return {};
}

}  // namespace ss::collector::remote
