"""``python -m integrations.vismanet.fake --port 8766 [--rate-limit N --rate-window S]``."""

from __future__ import annotations

import argparse

from integrations.vismanet.fake import DEFAULT_CLIENT_ID, DEFAULT_COMPANY, FakeVismaNetServer


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Visma.net ERP API and Visma Connect.")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--rate-limit", type=int, default=3600)
    parser.add_argument("--rate-window", type=float, default=3600.0)
    options = parser.parse_args()
    server = FakeVismaNetServer(
        port=options.port, rate_limit=options.rate_limit, rate_window=options.rate_window
    )
    print(f"Visma.net ERP fake on {server.api_url}; Visma Connect on {server.connect_url}")
    print(f"client id {DEFAULT_CLIENT_ID}, company tenant {DEFAULT_COMPANY}")
    server.serve_forever()


if __name__ == "__main__":
    main()
