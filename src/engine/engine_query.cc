// The engine's analytics entry point: builds a query::QueryContext over the
// store, the identity graph's current key -> one_id map and the spend table,
// and runs the query (docs/metrics.md).

#include "engine/engine.h"
#include "query/query.h"

namespace quanyu {

Result<query::Json> Engine::Query(std::string_view kind, const query::Json& body) const {
  query::QueryContext ctx;
  ctx.store = store_.get();
  // Read without locks while the query runs (DenseArray): a merge landing
  // meanwhile may or may not be seen by this query; the next one sees it.
  ctx.one_ids = &identity_->one_ids();
  ctx.spend = spend_.get();
  return query::RunQuery(kind, body, ctx);
}

}  // namespace quanyu
