"""Los textos del asistente de configuración en español. Las mismas claves que messages_en.py."""

MESSAGES: dict[str, str] = {
    # --- inicio ----------------------------------------------------------------------------
    "intro.title": "Configuración de Gemini CLI Proxy",
    "intro.text": (
        "Se comprueban tus credenciales, se hacen unas preguntas (Intro acepta el [valor por\n"
        "defecto]) y se escriben config.yaml, samconfig.toml y un archivo .env. No se escribe\n"
        "nada hasta que confirmes el resumen; Ctrl-C sale en cualquier momento.\n"
        "(In English: --lang en)"
    ),
    "warn.bad_config": "aviso: {problem}; se parte de los valores por defecto.",
    # --- lo encontrado ---------------------------------------------------------------------
    "found.folder": "Carpeta de credenciales: {folder}",
    "found.counts": (
        "Encontradas {ai} clave(s) de AI Studio y {oauth} cuenta(s) OAuth de Gemini CLI."
    ),
    "found.problem": "  se omite {name}: {reason}",
    "problem.unreadable": "no se pudo leer el archivo",
    "problem.not_json": "no es JSON válido",
    "problem.not_object": "debe contener un objeto JSON como el oauth_creds.json de Gemini CLI",
    "problem.no_refresh_token": (
        "no tiene refresh_token (inicia sesión con Gemini CLI para obtenerlo)"
    ),
    "found.none": (
        "No se encontraron credenciales. Pon claves de AI Studio, una por línea, en\n"
        "'{folder}/ai_studio_keys.txt', o cuentas de Gemini CLI (archivos oauth_creds.json) en\n"
        "'{folder}', y vuelve a ejecutar setup. Puedes completar el resto de ajustes ahora."
    ),
    "found.gemini_cli": (
        "Gemini CLI tiene una sesión iniciada en esta máquina ({path}, cuenta {fingerprint}),\n"
        "pero la carpeta de credenciales no tiene esa cuenta."
    ),
    "found.oauth_notice": (
        "Sobre las cuentas de Gemini CLI (OAuth): desde el 2026-06-18 Google solo las atiende en\n"
        "Code Assist con una licencia de Gemini Code Assist Standard o Enterprise; rechaza las\n"
        "cuentas gratuitas de Code Assist para particulares, Google AI Pro y Google AI Ultra.\n"
        "Las condiciones de Gemini CLI dicen además que usar su inicio de sesión OAuth desde\n"
        "software de terceros, como este proxy, las incumple y puede suponer la suspensión de la\n"
        "cuenta. Las claves de API de AI Studio (https://aistudio.google.com/apikey) son la vía\n"
        "admitida; usa una cuenta solo si tiene esa licencia, y bajo tu responsabilidad."
    ),
    "q.import_gemini_cli": "¿Copiar esa cuenta a la carpeta de credenciales?",
    # --- comprobaciones en vivo ------------------------------------------------------------
    "q.live_check": "¿Comprobar ahora cada credencial con Google?",
    "check.title": "Comprobando con {url} ...",
    "result.line": "  {kind} {fingerprint}  {verdict}",
    "verdict.ok": "correcta",
    "verdict.ok_tier": "correcta (nivel de Code Assist: {tier})",
    "verdict.rate_limited_for": (
        "limitada por cuota, usable de nuevo en unos {seconds} s ({reason})"
    ),
    "verdict.rate_limited": "limitada por cuota ({reason}): {message}",
    "verdict.invalid": "no válida ({reason}): {message}",
    "verdict.unsupported_client": (
        "no válida (UNSUPPORTED_CLIENT): Google ya no atiende esta cuenta en Code Assist\n"
        "      (desde el 2026-06-18: Code Assist gratuito para particulares, Google AI Pro y\n"
        "      Ultra). Lo que sigue funcionando: una clave de API de AI Studio, o una cuenta con\n"
        "      licencia de Code Assist Standard o Enterprise. Deja {source} fuera del proxy."
    ),
    "verdict.unknown": "no se pudo comprobar ({reason}): {message}",
    "summary.unchecked": "sin comprobar en vivo",
    "summary.checked": (
        "{ok} correctas, {limited} limitadas por cuota, {invalid} no válidas, "
        "{unknown} sin comprobar"
    ),
    # --- ajustes del grupo -----------------------------------------------------------------
    "section.pool": "Ajustes del grupo de credenciales",
    "q.fallback_mode": "¿Cuándo deben atender peticiones las claves de AI Studio?",
    "choice.fallback_mode.fallback.name": "fallback",
    "choice.fallback_mode.combined.name": "combined",
    "choice.fallback_mode.disabled.name": "disabled",
    "choice.fallback": "solo cuando ninguna cuenta OAuth puede atender el modelo (recomendado)",
    "choice.combined": "siempre, en un único grupo compartido con las cuentas OAuth",
    "choice.disabled": "nunca (salvo las claves de primary_keys en la configuración)",
    "q.ai_studio_cooldown": (
        "Segundos de descanso de una clave de AI Studio tras un límite de cuota sin indicación"
    ),
    "q.oauth_cooldown": (
        "Milisegundos de descanso de una cuenta OAuth tras un límite de cuota sin indicación"
    ),
    "q.failures": "Fallos sin explicación seguidos antes de dar una credencial por no válida",
    "q.recheck": "Milisegundos antes de volver a comprobar una credencial no válida",
    # --- claves de cliente y puerto --------------------------------------------------------
    "section.keys": "Claves de API de cliente y puerto local",
    "q.env_file": "Archivo de ajustes locales (claves de cliente, puerto); nunca config.yaml",
    "keys.explain": (
        "Los clientes envían una de estas claves como 'Authorization: Bearer <clave>'. Sin\n"
        "ninguna, el proxy solo escucha en esta máquina (127.0.0.1)."
    ),
    "q.client_keys": "Claves de API de cliente",
    "choice.keys.keep.name": "conservar",
    "choice.keys.keep": "conservar las {count} que tienes (de {where})",
    "choice.keys.generate.name": "generar",
    "choice.keys.generate": "generar claves aleatorias nuevas y robustas",
    "choice.keys.none.name": "ninguna",
    "choice.keys.none": "sin claves: el proxy solo escucha en 127.0.0.1",
    "q.client_key_count": "¿Cuántas claves? (una por cliente permite revocar solo esa)",
    "q.client_keys_destination": "¿Dónde guardar las claves nuevas?",
    "choice.dest.file.name": "archivo",
    "choice.dest.file": "en {path}, legible solo por ti",
    "choice.dest.print.name": "mostrar",
    "choice.dest.print": "se muestran una vez al final y no se guardan en ningún sitio",
    "q.port": "Puerto local para `gemini-proxy serve` y docker compose",
    # --- AWS -------------------------------------------------------------------------------
    "section.aws": "Despliegue en AWS (samconfig.toml, para sam deploy)",
    "q.stack_name": "Nombre de la pila de CloudFormation",
    "q.region": "Región de AWS",
    # --- resumen y escritura ---------------------------------------------------------------
    "review.title": "Resumen",
    "review.credentials": (
        "  credenciales: {ai} clave(s) de AI Studio, {oauth} cuenta(s) OAuth; {checks}"
    ),
    "review.setting": "  {name}: {value}",
    "review.keys.keep": "  claves de cliente: conservar las {count} que tienes",
    "review.keys.none": "  claves de cliente: ninguna (solo 127.0.0.1)",
    "review.keys.file": "  claves de cliente: {count} nueva(s), escritas en {path}",
    "review.keys.print": "  claves de cliente: {count} nueva(s), mostradas una vez al final",
    "review.port": "  puerto local: {port} ({var} en {path})",
    "review.aws": "  AWS: pila {stack} en {region}",
    "review.file.new": "  se creará {path}",
    "review.file.update": "  se actualizará {path} (ya existe; se conservan sus otros ajustes)",
    "review.import": "  se copiará la cuenta {fingerprint} de Gemini CLI a {folder}",
    "q.confirm": "¿Escribir estos archivos?",
    "q.overwrite_config": (
        "{path} ya existe. ¿Sobrescribirlo? (se conservan los ajustes no preguntados)"
    ),
    "q.overwrite_samconfig": "{path} ya existe. ¿Sobrescribirlo? (se conservan sus otros entornos)",
    "done.nothing": "No se ha escrito nada.",
    "done.kept": "{path} se ha dejado como estaba.",
    "done.wrote": "Escrito {path}.",
    "done.imported": (
        "Copiada la cuenta {fingerprint} de Gemini CLI a {path} (legible solo por ti)."
    ),
    "done.import_failed": (
        "No se pudo copiar la cuenta de Gemini CLI: ejecuta `gemini-proxy import-gemini-cli`."
    ),
    "done.keys_file": "Las claves de cliente están en {path} como {var}; da una a cada cliente.",
    "done.keys_print": (
        "Tus claves de cliente nuevas. Se muestran solo esta vez y no se guardan; consérvalas:"
    ),
    "q.import_secrets": (
        "¿Guardar ahora las credenciales y claves de cliente en AWS Secrets Manager?"
    ),
    "q.secret_name": "Nombre del secreto",
    "warn.import_failed": "import-secrets ha fallado: {problem}",
    "warn.import_retry": (
        "Ejecútalo más tarde con: gemini-proxy import-secrets --secret-name {name} "
        "--region {region}"
    ),
    "next.title": "Siguientes pasos:",
    "next.local": "  aquí:   set -a; . '{env}'; set +a; gemini-proxy serve --port {port}",
    "next.docker": "  docker: docker compose up -d   (lee .env; mira docker-compose.yml)",
    "next.aws": "  AWS:    sam build && sam deploy   (pila {stack})",
    "done.interrupted": "Interrumpido: no se ha escrito nada.",
    "done.interrupted_after": (
        "Interrumpido. Estos archivos se escribieron completos antes: {files}"
    ),
    "done.answer_error": "error: {problem}. No se ha escrito nada.",
    # --- errores de respuestas y de entrada ------------------------------------------------
    "error.answers_file": "error: no se puede usar el archivo de respuestas {path}: {problem}",
    "error.known_ids": "Identificadores de pregunta válidos: {ids}",
    "error.answer": "la respuesta a '{id}' no sirve: {problem}",
    "yes.name": "sí",
    "no.name": "no",
    "error.yes_no": "Responde sí o no.",
    "error.integer": "Escribe un número entero entre {low} y {high}.",
    "error.positive": "Escribe un número mayor que 0.",
    "error.empty": "Aquí hace falta una respuesta.",
    "error.path": "Escribe la ruta de un archivo.",
    "error.stack": "Usa letras, cifras y guiones, empezando por una letra (128 como máximo).",
    "error.region": "Usa un código de región como us-east-1 o eu-west-1.",
    "choice.prompt": "  Elige",
    "error.choice": "Elige un número del 1 al {count}, o uno de: {names}.",
}
