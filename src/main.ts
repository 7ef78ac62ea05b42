import { readdirSync } from 'node:fs';
import * as core from '@actions/core';
import { actionsLogger } from './actions-log.js';
import { execHelper, readDockerConfig } from './credential-helper.js';
import { errorMessage } from './errors.js';
import { execute } from './execute.js';
import { parseInputs } from './inputs.js';
import { outputsOf, summaryMarkdown } from './outputs.js';

/** The action: inputs from the runner, outputs and a job summary back; the one error boundary. */
export async function main(): Promise<void> {
  try {
    const log = actionsLogger();
    const inputs = parseInputs({
      read: (name) => core.getInput(name),
      listDir: (path) => readdirSync(path),
      secret: (value) => core.setSecret(value),
    });
    const result = await execute(inputs, log, {
      githubActor: process.env['GITHUB_ACTOR'],
      dockerConfig: readDockerConfig(process.env),
      runHelper: execHelper,
      userAgent: 'manifest-merge-action',
    });
    for (const [name, value] of Object.entries(outputsOf(result))) core.setOutput(name, value);
    if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(summaryMarkdown(result)).write();
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
