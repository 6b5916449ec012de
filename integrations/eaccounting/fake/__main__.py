"""``python -m integrations.eaccounting.fake --port 8766``: the fake eEkonomi on a local port
(point EACCOUNTING_API_URL, EACCOUNTING_AUTH_URL and EACCOUNTING_TOKEN_URL at it)."""

import argparse
import contextlib

from integrations.eaccounting.fake.server import FakeEAccountingServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    server = FakeEAccountingServer(host=args.host, port=args.port, seed=args.seed)
    print(f"Fake eEkonomi on {server.url} (API {server.api_url}, token {server.token_url})")
    print(f"client id/secret: {server.fake.clients}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
