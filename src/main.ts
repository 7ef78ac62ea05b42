import { readdirSync } from 'node:fs';
import * as core from '@actions/core';
import { actionsLogger } from './actions-log.js';
import { helperRunner } from './credential-helper.js';
import { dockerConfigs } from './docker-config-files.js';
import { errorMessage } from './errors.js';
import { parseInputs } from './inputs.js';
import { printable } from './log.js';
import { outputsOf, partialOutputsOf, summaryMarkdown } from './outputs.js';
import { PartialPublishError } from './result.js';
import { runWithClient } from './run-with-client.js';

/** The action: inputs from the runner, outputs and a job summary back; the one error boundary. */
export async function main(): Promise<void> {
  try {
    const log = actionsLogger();
    const inputs = parseInputs({
      read: (name) => core.getInput(name),
      listDir: (path) => readdirSync(path),
      secret: (value) => core.setSecret(value),
    });
    const result = await runWithClient(inputs, log, {
      githubActor: process.env['GITHUB_ACTOR'],
      githubSha: process.env['GITHUB_SHA'],
      githubApiUrl: process.env['GITHUB_API_URL'],
      githubRepository: process.env['GITHUB_REPOSITORY'],
      dockerConfigs: dockerConfigs(
        process.env,
        inputs.targets.map((target) => target.image),
        (message) => log.warning(message),
      ),
      runHelper: helperRunner(process.env, inputs.waitTimeoutMs),
      userAgent: 'manifest-merge-action',
    });
    await report(outputsOf(result), summaryMarkdown(result));
  } catch (error) {
    // Tags that moved before a write failed are still handed on, so later steps know what the tags serve.
    if (error instanceof PartialPublishError) {
      await report(partialOutputsOf(error.result), summaryMarkdown(error.result));
    }
    if (error instanceof Error && error.stack) core.debug(printable(error.stack));
    core.setFailed(errorMessage(error));
  }
}

async function report(outputs: Record<string, string>, summary: string): Promise<void> {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(summary).write();
}
