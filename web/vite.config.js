// Builds the dashboard into web/dist; `quanyu serve` serves it at /.
// `npm run dev` proxies the API to a local server (QUANYU_URL, default :8080).
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const target = process.env.QUANYU_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': target } },
});
