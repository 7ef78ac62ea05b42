import * as core from '@actions/core';
import { main } from './main.js';
import { failIfUnsettled, UNSETTLED_MESSAGE } from './unsettled.js';

// The one call; main() is its own error boundary, and a main() that never settles fails the step, not passes it.
failIfUnsettled(main(), () => core.setFailed(UNSETTLED_MESSAGE));
