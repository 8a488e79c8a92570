#!/usr/bin/env python3
"""Sends exactly COUNT identical POST requests over one keep-alive connection, one at a time.

    fixed_client.py HOST PORT PATH BODY_FILE COUNT

A fixed count (not a duration) makes the server's work identical from run to run, which is what
an instruction count needs. Exits non-zero on the first non-200 answer, so a broken run cannot
pass for a cheap one.
"""
import http.client
import sys

host, port, path, body_file, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
body = open(body_file, "rb").read()
headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
conn = http.client.HTTPConnection(host, port, timeout=120)
for i in range(count):
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"request {i + 1}: status {response.status}: {data[:200]!r}")
conn.close()
