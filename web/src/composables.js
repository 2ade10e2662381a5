// Small pieces of state several pages share.
import { onBeforeUnmount, onMounted, ref } from 'vue';

// The answer of the latest call of `fetcher` (an async function): a slower,
// older request that lands after a newer one is dropped, so the page never
// shows an answer to filters it no longer has. run() starts a request.
export function useLatest(fetcher, { loading: initiallyLoading = false } = {}) {
  const data = ref(null);
  const loading = ref(initiallyLoading);
  const error = ref(null);
  let generation = 0;
  async function run() {
    const mine = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const answer = await fetcher();
      if (mine === generation) data.value = answer;
    } catch (err) {
      if (mine === generation) error.value = err;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }
  return { data, loading, error, run };
}

// True while the window is narrower than `px` (charts drop labels there).
export function useNarrow(px) {
  const narrow = ref(window.innerWidth < px);
  const onResize = () => { narrow.value = window.innerWidth < px; };
  onMounted(() => window.addEventListener('resize', onResize));
  onBeforeUnmount(() => window.removeEventListener('resize', onResize));
  return narrow;
}
