// PLACEHOLDER until the operator lands: answers 501-style InvalidArgument.
#include "query/operators.h"

namespace quanyu::query {

Result<Json> RunTouchpoints(const Json&, const QueryContext&) {
  return Status::InvalidArgument("the touchpoints query is not built yet");
}

}  // namespace quanyu::query
