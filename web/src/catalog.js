// The event catalog (GET /api/v1/catalog/events), which several pages' pickers
// need: fetched once and shared for a minute, so moving between pages does
// not ask for it again each time.
import { api } from './api';

let cached = null;
let fetchedAt = 0;

export function catalogEvents() {
  if (!cached || Date.now() - fetchedAt > 60000) {
    fetchedAt = Date.now();
    cached = api.get('/catalog/events').catch((e) => {
      cached = null;
      throw e;
    });
  }
  return cached;
}
