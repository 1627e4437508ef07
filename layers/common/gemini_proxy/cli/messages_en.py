"""The setup wizard's strings in English. Every key exists in messages_es.py too (tested)."""

MESSAGES: dict[str, str] = {
    # --- start -----------------------------------------------------------------------------
    "intro.title": "Gemini CLI Proxy setup",
    "intro.text": (
        "This checks your credentials, asks a few questions (Enter keeps the [default]) and\n"
        "writes config.yaml, samconfig.toml and a .env file. Nothing is written until you\n"
        "confirm the review; Ctrl-C quits at any moment. (En español: --lang es)"
    ),
    "warn.bad_config": "warning: {problem}; starting from the defaults instead.",
    # --- what was found --------------------------------------------------------------------
    "found.folder": "Credentials folder: {folder}",
    "found.counts": "Found {ai} AI Studio key(s) and {oauth} Gemini CLI OAuth account(s).",
    "found.problem": "  skipped {name}: {reason}",
    "problem.unreadable": "the file could not be read",
    "problem.not_json": "not valid JSON",
    "problem.not_object": "should hold a JSON object like Gemini CLI's oauth_creds.json",
    "problem.no_refresh_token": "has no refresh_token (log in with Gemini CLI to get one)",
    "found.none": (
        "No credentials found. Put AI Studio keys, one a line, in '{folder}/ai_studio_keys.txt',\n"
        "or Gemini CLI accounts (oauth_creds.json files) in '{folder}', then run setup again.\n"
        "You can still finish the other settings now."
    ),
    "found.gemini_cli": (
        "Gemini CLI is logged in on this machine ({path}, account {fingerprint}),\n"
        "but the credentials folder does not have that account."
    ),
    "found.oauth_notice": (
        "About Gemini CLI accounts (OAuth): since 2026-06-18 Google serves them through Code\n"
        "Assist only with a Gemini Code Assist Standard or Enterprise licence; free Code Assist\n"
        "for individuals, Google AI Pro and Google AI Ultra accounts are refused. Gemini CLI's\n"
        "terms also say that using its OAuth login from third-party software such as this proxy\n"
        "violates them and may get the account suspended. AI Studio API keys\n"
        "(https://aistudio.google.com/apikey) are the supported way; use an account only if it\n"
        "has such a licence, at your own risk."
    ),
    "q.import_gemini_cli": "Copy that account into the credentials folder?",
    # --- live checks -----------------------------------------------------------------------
    "q.live_check": "Check each credential with Google now?",
    "check.title": "Checking with {url} ...",
    "result.line": "  {kind} {fingerprint}  {verdict}",
    "verdict.ok": "ok",
    "verdict.ok_tier": "ok (Code Assist tier: {tier})",
    "verdict.rate_limited_for": "rate-limited, usable again in about {seconds} s ({reason})",
    "verdict.rate_limited": "rate-limited ({reason}): {message}",
    "verdict.invalid": "invalid ({reason}): {message}",
    "verdict.unsupported_client": (
        "invalid (UNSUPPORTED_CLIENT): Google no longer serves this account through Code Assist\n"
        "      (since 2026-06-18: free Code Assist for individuals, Google AI Pro and Ultra).\n"
        "      What still works: an AI Studio API key, or an account with a Code Assist\n"
        "      Standard or Enterprise licence. Leave {source} out of the proxy."
    ),
    "verdict.unknown": "could not be checked ({reason}): {message}",
    "summary.unchecked": "not checked live",
    "summary.checked": "{ok} ok, {limited} rate-limited, {invalid} invalid, {unknown} unchecked",
    # --- pool settings ---------------------------------------------------------------------
    "section.pool": "Pool settings",
    "q.fallback_mode": "When should AI Studio keys serve requests?",
    "choice.fallback_mode.fallback.name": "fallback",
    "choice.fallback_mode.combined.name": "combined",
    "choice.fallback_mode.disabled.name": "disabled",
    "choice.fallback": "only when no OAuth account can serve the model (recommended)",
    "choice.combined": "always, in one shared pool with the OAuth accounts",
    "choice.disabled": "never (except keys listed under primary_keys in the config)",
    "q.ai_studio_cooldown": "Seconds an AI Studio key rests after a rate limit with no hint",
    "q.oauth_cooldown": "Milliseconds an OAuth account rests after a rate limit with no hint",
    "q.failures": "Unexplained failures in a row before a credential counts as invalid",
    "q.recheck": "Milliseconds before an invalid credential is checked again",
    # --- client keys and port --------------------------------------------------------------
    "section.keys": "Client API keys and local port",
    "q.env_file": "File for local settings (client keys, port); never config.yaml",
    "keys.explain": (
        "Clients send one of these keys as 'Authorization: Bearer <key>'. Without any,\n"
        "the proxy only listens on this machine (127.0.0.1)."
    ),
    "q.client_keys": "Client API keys",
    "choice.keys.keep.name": "keep",
    "choice.keys.keep": "keep the {count} you have (from {where})",
    "choice.keys.generate.name": "generate",
    "choice.keys.generate": "generate new strong random keys",
    "choice.keys.none.name": "none",
    "choice.keys.none": "no keys: the proxy then listens on 127.0.0.1 only",
    "q.client_key_count": "How many keys (one per client lets you revoke one alone)",
    "q.client_keys_destination": "Where should the new keys go?",
    "choice.dest.file.name": "file",
    "choice.dest.file": "into {path}, readable by you only",
    "choice.dest.print.name": "print",
    "choice.dest.print": "printed once at the end, stored nowhere",
    "q.port": "Local port for `gemini-proxy serve` and docker compose",
    # --- AWS -------------------------------------------------------------------------------
    "section.aws": "AWS deployment (samconfig.toml, for sam deploy)",
    "q.stack_name": "CloudFormation stack name",
    "q.region": "AWS region",
    # --- review and writing ----------------------------------------------------------------
    "review.title": "Review",
    "review.credentials": (
        "  credentials: {ai} AI Studio key(s), {oauth} OAuth account(s); {checks}"
    ),
    "review.setting": "  {name}: {value}",
    "review.keys.keep": "  client API keys: keep the {count} you have",
    "review.keys.none": "  client API keys: none (loopback only)",
    "review.keys.file": "  client API keys: {count} new, written to {path}",
    "review.keys.print": "  client API keys: {count} new, printed once at the end",
    "review.port": "  local port: {port} ({var} in {path})",
    "review.aws": "  AWS: stack {stack} in {region}",
    "review.file.new": "  will create {path}",
    "review.file.update": "  will update {path} (it exists; other settings in it are kept)",
    "review.import": "  will copy Gemini CLI's account {fingerprint} into {folder}",
    "q.confirm": "Write these files?",
    "q.overwrite_config": "{path} exists. Overwrite it (settings not asked about are kept)?",
    "q.overwrite_samconfig": "{path} exists. Overwrite it (its other environments are kept)?",
    "done.nothing": "Nothing was written.",
    "done.kept": "Left {path} as it was.",
    "done.wrote": "Wrote {path}.",
    "done.imported": "Copied Gemini CLI's account {fingerprint} to {path} (readable by you only).",
    "done.import_failed": (
        "Could not copy Gemini CLI's account: run `gemini-proxy import-gemini-cli`."
    ),
    "done.keys_file": "Client API keys are in {path} as {var}; give each client one of them.",
    "done.keys_print": "Your new client API keys. Shown this once and stored nowhere; keep them:",
    "q.import_secrets": "Store the credentials and client keys in AWS Secrets Manager now?",
    "q.secret_name": "Secret name",
    "warn.import_failed": "import-secrets failed: {problem}",
    "warn.import_retry": (
        "Run it later with: gemini-proxy import-secrets --secret-name {name} --region {region}"
    ),
    "next.title": "Next steps:",
    "next.local": "  here:   set -a; . '{env}'; set +a; gemini-proxy serve --port {port}",
    "next.docker": "  docker: docker compose up -d   (reads .env; see docker-compose.yml)",
    "next.aws": "  AWS:    sam build && sam deploy   (stack {stack})",
    "done.interrupted": "Interrupted: nothing was written.",
    "done.interrupted_after": "Interrupted. These files were written whole before it: {files}",
    "done.answer_error": "error: {problem}. Nothing was written.",
    # --- answers and input errors ----------------------------------------------------------
    "error.answers_file": "error: cannot use the answers file {path}: {problem}",
    "error.known_ids": "Known question ids: {ids}",
    "error.answer": "answer to '{id}' cannot be used: {problem}",
    "yes.name": "yes",
    "no.name": "no",
    "error.yes_no": "Answer yes or no.",
    "error.integer": "Enter a whole number from {low} to {high}.",
    "error.positive": "Enter a number greater than 0.",
    "error.empty": "An answer is needed here.",
    "error.path": "Enter a file path.",
    "error.stack": "Use letters, digits and hyphens, starting with a letter (128 at most).",
    "error.region": "Use a region code such as us-east-1 or eu-west-1.",
    "choice.prompt": "  Choose",
    "error.choice": "Choose a number from 1 to {count}, or one of: {names}.",
}
