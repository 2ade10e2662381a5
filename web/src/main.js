import { createApp } from 'vue';
import App from './App.vue';
import './style.css';

const app = createApp(App);
// No raw stack trace ever reaches the page: errors are logged and the page
// shows its own error state.
app.config.errorHandler = (err, _vm, info) => {
  console.warn('quanyu: unhandled UI error in', info, err);
};
app.mount('#app');
