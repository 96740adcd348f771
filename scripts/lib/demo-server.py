#!/usr/bin/env python3
"""Serves the demo shop page for scripts/dev: `demo-server.py PORT DIRECTORY`.

Like `python3 -m http.server`, on 127.0.0.1, except that its log never holds a visitor's address
(S5.2): each line is the time and the request, nothing else.
"""
import functools
import http.server
import sys


class AddressFreeHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


def main() -> None:
    port, directory = int(sys.argv[1]), sys.argv[2]
    handler = functools.partial(AddressFreeHandler, directory=directory)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


if __name__ == "__main__":
    main()
