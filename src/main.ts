import { readdirSync } from 'node:fs';
import * as core from '@actions/core';
import { actionLogger } from './action-logger.js';
import { helperRunner } from './credential-helper.js';
import { dockerConfigs } from './docker-config-files.js';
import { errorMessage } from './errors.js';
import { parseInputs } from './inputs.js';
import { breakLegacyCommands } from './log.js';
import { outputsOf, partialOutputsOf, summaryMarkdown } from './outputs.js';
import { PartialPublishError } from './result.js';
import { runWithClient } from './run-with-client.js';

/** The action: inputs from the runner, outputs and a job summary back; the one error boundary. */
export async function main(): Promise<void> {
  const log = actionLogger();
  // The tags have moved (or the failure says which did): a summary that cannot be written is only a warning.
  const summaryWarning = (reportError: unknown) =>
    log.warning(`the job summary could not be written: ${errorMessage(reportError)}`, 'Job summary');
  try {
    const inputs = parseInputs({
      read: (name) => core.getInput(name),
      listDir: (path) => readdirSync(path),
      secret: (value) => log.secret(value),
    });
    const result = await runWithClient(inputs, log, {
      githubActor: process.env['GITHUB_ACTOR'],
      githubSha: process.env['GITHUB_SHA'],
      githubRepository: process.env['GITHUB_REPOSITORY'],
      dockerConfigs: dockerConfigs(
        process.env,
        inputs.targets.map((target) => target.image),
        (message) => log.warning(message),
      ),
      runHelper: helperRunner(process.env, inputs.waitTimeoutMs),
      userAgent: 'manifest-merge-action',
      proxyEnv: process.env,
    });
    await report(outputsOf(result), summaryMarkdown(result)).catch(summaryWarning);
  } catch (error) {
    // Tags that moved before a write failed are still handed on, so later steps know what the tags serve.
    if (error instanceof PartialPublishError) {
      // A summary that cannot be written must not hide the failure it reports.
      await report(partialOutputsOf(error.result), summaryMarkdown(error.result)).catch(summaryWarning);
    }
    if (error instanceof Error && error.stack) log.debug(error.stack);
    // Its lines stay lines (the annotation shows them), but no `##[` in a registry's words runs as a command.
    core.setFailed(breakLegacyCommands(errorMessage(error)));
  }
}

async function report(outputs: Record<string, string>, summary: string): Promise<void> {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(summary).write();
}
