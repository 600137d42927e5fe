#include "agent/sources/lustre/scalar_format.h"

#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

std::optional<uint64_t> parse_scalar(std::string_view text) { return to_u64(trim(text)); }

}  // namespace ss::agent::lustre
