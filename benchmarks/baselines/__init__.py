"""What the library is compared to, on the same job and the same fake server:

- ``sequential``: what a user of Zoho's official Python SDK gets: one blocking call at a
  time, a new connection for each.
- ``handrolled``: a competent asyncio script: aiohttp, an ``asyncio.Semaphore``, a simple
  retry on 429/5xx, stdlib ``json``, 100 items a PUT.
"""
