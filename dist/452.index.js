export const id = 452;
export const ids = [452];
export const modules = {

/***/ 3452:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   MAX_COMPARE_BYTES: () => (/* binding */ MAX_COMPARE_BYTES),
/* harmony export */   gitHubApi: () => (/* binding */ gitHubApi)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2413);
/* harmony import */ var _github_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9248);
/* harmony import */ var _registry_loopback_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7042);



/**
 * The compare call through @actions/github: the repository and the API URL from the run's context
 * (GITHUB_REPOSITORY, GITHUB_API_URL: GitHub Enterprise Server too), the token for the API origin only. Requests
 * go through the product's own client (the proxy it logged, its timeouts, no redirects followed), handed to
 * octokit as its `fetch`.
 */
/**
 * Largest compare answer read. GitHub sends up to 300 changed files with their patches beside the status, several
 * MiB between distant commits; a bound far above that keeps a hostile API from filling the memory.
 */
const MAX_COMPARE_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
function gitHubApi(options) {
    const api = new URL(_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .context */ ._.apiUrl);
    if (api.protocol !== 'https:' && !(0,_registry_loopback_js__WEBPACK_IMPORTED_MODULE_1__/* .isLoopback */ .U)(api.hostname)) {
        throw new Error(`GITHUB_API_URL ${api.origin} is not HTTPS: refusing to send the GitHub token there`);
    }
    const { owner, repo } = _actions_github__WEBPACK_IMPORTED_MODULE_0__/* .context */ ._.repo;
    const repository = `${owner}/${repo}`;
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) {
        throw new Error(`GITHUB_REPOSITORY "${repository.slice(0, 100)}" is not owner/name`);
    }
    const log = { debug: () => { }, info: () => { }, warn: options.warn, error: options.warn };
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(options.token, {
        baseUrl: _actions_github__WEBPACK_IMPORTED_MODULE_0__/* .context */ ._.apiUrl.replace(/\/$/, ''),
        userAgent: 'manifest-merge',
        log,
        request: { fetch: fetchThrough(options.transport, api.origin), log },
    });
    return {
        async compare(base, head) {
            for (const sha of [base, head]) {
                if (!(0,_github_js__WEBPACK_IMPORTED_MODULE_2__/* .isCommitSha */ ._)(sha))
                    throw new Error(`"${sha.slice(0, 80)}" is not a commit SHA; cannot compare revisions`);
            }
            const answer = await octokit.rest.repos
                // One commit per page: the status is the same, the answer smaller.
                .compareCommitsWithBasehead({ owner, repo, basehead: `${base}...${head}`, per_page: 1 })
                .catch((error) => {
                throw answered(error, repository, base, head);
            });
            if (answer.status !== 200)
                throw failed(answer.status, repository, base, head);
            const status = answer.data.status;
            if (status === 'ahead' || status === 'behind' || status === 'identical' || status === 'diverged')
                return status;
            throw new Error(`GitHub's compare API answered without a status for ${base}...${head}`);
        },
    };
}
/** An answer octokit refused (4xx, 5xx) gets our message; a failure with no answer is passed on. */
function answered(error, repository, base, head) {
    const status = error.response?.status;
    return typeof status === 'number' ? failed(status, repository, base, head) : error;
}
function failed(status, repository, base, head) {
    return new Error(`GitHub's compare API answered ${status} for ${repository} ${base}...${head}: ` +
        (status === 404
            ? 'a revision is not in this repository (or the token cannot read it)'
            : 'check github-token (it needs contents: read)'));
}
/**
 * `fetch` for octokit over our Transport: only to the API origin (the token goes nowhere else), redirects not
 * followed, the body bounded by MAX_COMPARE_BYTES, each request by TIMEOUT_MS.
 */
function fetchThrough(transport, origin) {
    return async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : input);
        if (url.origin !== origin)
            throw new Error(`refusing to send the GitHub token to ${url.origin}`);
        const answer = await transport.send({
            method: (init?.method ?? 'GET'),
            url: url.href,
            headers: Object.fromEntries(new Headers(init?.headers).entries()),
            signal: init?.signal ?? AbortSignal.timeout(TIMEOUT_MS),
        }, MAX_COMPARE_BYTES);
        const empty = [204, 205, 304].includes(answer.status);
        return new Response(empty ? null : Buffer.from(answer.body), {
            status: answer.status,
            headers: answer.headers,
        });
    };
}


/***/ })

};
