#!/usr/bin/env bash
# The README's first command, checked end to end on the embedded defaults (SQLite under var/,
# eager Celery, e-mail as files under var/mail/): `make demo` on a free port in the
# background, then /healthz, the sign-in page, a demo member's sign-in through the API, and an
# e-mailed link that points at the demo's own address. Exits non-zero when any step fails.
#   scripts/demo-smoke.sh            # in the checkout it is run from, without its var/
#   DEMO_SMOKE_TIMEOUT=1200 ...      # seconds to wait for the demo (first run installs .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

# The embedded defaults, whatever the caller's environment says.
unset DATABASE_URL REDIS_URL EMAIL_URL MEDIA_ROOT EINVOICE_DROP_DIR EINVOICE_TRANSPORT \
      SITE_URL DJANGO_SETTINGS_MODULE SECRET_KEY DEBUG SEVERA_TODAY ALLOWED_HOSTS

PYTHON="${PYTHON:-python3}"
timeout="${DEMO_SMOKE_TIMEOUT:-900}"
port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
log="$(mktemp -t demo-smoke.XXXXXX.log)"
work="$(mktemp -d -t demo-smoke.XXXXXX)"

fail() {
  echo "demo smoke FAILED: $*" >&2
  echo "--- last lines of the demo's output ($log):" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
}

# As on a fresh clone: no var/. One left by an earlier demo or by the tests is moved aside
# and put back at the end.
aside=""
if [ -e var ]; then
  aside="var.before-demo-smoke.$$"
  mv var "$aside"
  echo "demo smoke: var/ moved aside to $aside (put back at the end)"
fi

# make demo runs in its own process group: stopping it stops runserver and its reloader too.
setsid make demo HOST="127.0.0.1:$port" PYTHON="$PYTHON" >"$log" 2>&1 &
demo=$!
stop() {
  kill -TERM -- "-$demo" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$demo" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$demo" 2>/dev/null || true
  rm -rf "$work"
  if [ -n "$aside" ] && [ -d "$aside" ]; then
    rm -rf var && mv "$aside" var && echo "demo smoke: var/ put back"
  fi
}
trap stop EXIT

echo "demo smoke: make demo HOST=127.0.0.1:$port (output in $log)"
deadline=$((SECONDS + timeout))
until curl -fsS -o "$work/health.json" "$base/healthz" 2>/dev/null; do
  kill -0 "$demo" 2>/dev/null || fail "make demo stopped before /healthz answered"
  [ "$SECONDS" -lt "$deadline" ] || fail "/healthz did not answer within $timeout s"
  sleep 2
done
echo "demo smoke: /healthz $(cat "$work/health.json")"

code="$(curl -sS -o "$work/login.html" -w '%{http_code}' "$base/accounts/login/")"
[ "$code" = 200 ] || fail "the sign-in page answered $code"
grep -q 'name="username"' "$work/login.html" || fail "the sign-in page has no username field"
echo "demo smoke: sign-in page 200"

json() { "$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))$1)" "$2"; }

token_for() {  # username [otp_code] -> writes the token response to $work/token.json
  local body="{\"username\": \"$1\", \"password\": \"severa-demo\"${2:+, \"otp_code\": \"$2\"}}"
  code="$(curl -sS -o "$work/token.json" -w '%{http_code}' -X POST "$base/api/v1/auth/token" \
    -H 'Content-Type: application/json' -d "$body")"
  [ "$code" = 201 ] || fail "POST /api/v1/auth/token as $1 answered $code: $(cat "$work/token.json")"
  json '["token"]' "$work/token.json"
}

member_token="$(token_for mikko.member)"
code="$(curl -sS -o "$work/me.json" -w '%{http_code}' "$base/api/v1/me" \
  -H "Authorization: Bearer $member_token")"
[ "$code" = 200 ] || fail "GET /api/v1/me answered $code"
[ "$(json '["username"]' "$work/me.json")" = mikko.member ] || fail "/api/v1/me is not mikko.member"
echo "demo smoke: mikko.member signed in through the API"

# E-mailed links follow HOST: an admin invites someone; the invitation (var/mail/) must link
# to this demo's port.
otp="$(.venv/bin/python manage.py demo_otp_code aino.admin | cut -d' ' -f1)"
admin_token="$(token_for aino.admin "$otp")"
curl -fsS -o "$work/admin.json" "$base/api/v1/me" -H "Authorization: Bearer $admin_token" \
  || fail "GET /api/v1/me as aino.admin failed"
tenant="$(json '["tenants"][0]["id"]' "$work/admin.json")"
invitee="smoke-$port-$$@example.com"
code="$(curl -sS -o "$work/invitation.json" -w '%{http_code}' -X POST \
  "$base/api/v1/tenants/$tenant/invitations" -H "Authorization: Bearer $admin_token" \
  -H 'Content-Type: application/json' -d "{\"email\": \"$invitee\", \"role\": \"member\"}")"
[ "$code" = 201 ] || fail "POST …/invitations answered $code: $(cat "$work/invitation.json")"
mail="$(grep -l -- "$invitee" var/mail/* 2>/dev/null | head -n 1 || true)"
[ -n "$mail" ] || fail "no invitation e-mail to $invitee under var/mail/"
grep -q -- "$base/" "$mail" || fail "the invitation e-mail ($mail) does not link to $base/"
echo "demo smoke: the invitation e-mail links to $base/"

# E-mail is plain text: no subject of the demo's e-mails (order confirmations of "Berg & Lind
# AB", invitations) is HTML-escaped.
"$PYTHON" - <<'PY' || fail "an e-mail subject under var/mail/ is HTML-escaped"
import email, email.policy, pathlib, re, sys
subjects = [
    email.message_from_string(part.strip() + "\n", policy=email.policy.default)["Subject"]
    for path in pathlib.Path("var/mail").iterdir()
    for part in path.read_text().split("-" * 79)
    if part.strip()
]
escaped = [s for s in subjects if re.search(r"&(amp|lt|gt|quot|#x27|#39);", s or "")]
print(f"demo smoke: {len(subjects)} e-mails, subjects escaped: {escaped or 'none'}")
if not subjects or escaped or not any("Berg & Lind" in (s or "") for s in subjects):
    sys.exit(1)
PY

echo "demo smoke: OK"
