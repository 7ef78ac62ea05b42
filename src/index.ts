import { main } from './main.js';
import { warmUpWhileWaiting } from './warm-up.js';

warmUpWhileWaiting();
// The one call; main() is its own error boundary.
void main();
