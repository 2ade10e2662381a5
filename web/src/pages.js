// The dashboard's pages, in menu order. `id` is the route (#/id) and the
// name GET /api/v1/session lists when the key's role may use the page.
import { defineAsyncComponent, h } from 'vue';

// Shown while a page's code loads (each page is its own chunk).
const Loading = { render: () => h('div', { class: 'state state-loading' }, [h('span', { class: 'spinner' })]) };
const page = (loader) => defineAsyncComponent({ loader, delay: 0, loadingComponent: Loading });

export const PAGES = [
  { id: 'overview', icon: '◎', component: page(() => import('./pages/Overview.vue')) },
  { id: 'touchpoints', icon: '⇄', component: page(() => import('./pages/Touchpoints.vue')) },
  { id: 'funnels', icon: '⏷', component: page(() => import('./pages/Funnels.vue')) },
  { id: 'retention', icon: '▦', component: page(() => import('./pages/Retention.vue')) },
  { id: 'paths', icon: '⤳', component: page(() => import('./pages/Paths.vue')) },
  { id: 'attribution', icon: '◔', component: page(() => import('./pages/Attribution.vue')) },
  { id: 'audiences', icon: '◉', component: page(() => import('./pages/Audiences.vue')) },
  { id: 'profiles', icon: '☺', component: page(() => import('./pages/Profiles.vue')) },
  { id: 'predictions', icon: '↗', component: page(() => import('./pages/Predictions.vue')) },
  { id: 'privacy', icon: '⚿', component: page(() => import('./pages/Privacy.vue')) },
  { id: 'settings', icon: '⚙', component: page(() => import('./pages/Settings.vue')) },
];
