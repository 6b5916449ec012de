"""``python -m integrations.fortnox.fake --port 8765``: the fake Fortnox on a local port."""

import argparse
import contextlib
import json

from integrations.fortnox.fake.server import FakeFortnoxServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tenant", default="1", help="company of the printed token")
    args = parser.parse_args()
    server = FakeFortnoxServer(host=args.host, port=args.port, seed=args.seed)
    tokens = server.fake.issue_token(tenant_id=args.tenant)
    print(f"Fake Fortnox on {server.url} (API {server.api_url}, token {server.token_url})")
    print(f"client id/secret: {server.fake.clients}")
    print("tokens:", json.dumps(tokens))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
