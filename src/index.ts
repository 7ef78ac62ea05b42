import { main } from './main.js';

// The one call; main() is its own error boundary.
void main();
