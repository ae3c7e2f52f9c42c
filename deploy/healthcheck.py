"""The plyr image's health check: GET /health on this container's web server (PLYR_PORT);
exit 0 when it answers 200 (database and storage reachable), 1 otherwise."""

import os
import sys
import urllib.error
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PLYR_PORT', '8000')}/health"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except (urllib.error.URLError, OSError) as exc:
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
