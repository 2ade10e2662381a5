// PLACEHOLDER until the operator lands: answers 501-style InvalidArgument.
#include "query/operators.h"

namespace quanyu::query {

Result<Json> RunKpis(const Json&, const QueryContext&) {
  return Status::InvalidArgument("the kpis query is not built yet");
}

}  // namespace quanyu::query
