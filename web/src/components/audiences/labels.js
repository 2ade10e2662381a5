// Translated names of the RFM segments (the API names them in English).
import { messages, t } from '../../i18n';

const key = (s) => 'seg_' + String(s).toLowerCase().replace(/[^a-z]+/g, '_');
export function segmentLabel(s) {
  const k = key(s);
  return messages.en.audiences && k in messages.en.audiences ? t(`audiences.${k}`) : s;
}
