import { main } from './main.js';
import { warmUpWhileWaiting } from './warm-up.js';

warmUpWhileWaiting();
// No top-level await: the bundle is CommonJS, which Node starts faster (scripts/bundle.js).
void main();
