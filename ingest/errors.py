"""hubwatch's own error. A module of its own so that the commands that never crawl (`hubwatch sql`,
`diff`, `withdraw`, `--help`) name it without importing the HTTP client (httpx, tenacity)."""


class CrawlError(RuntimeError):
    """A crawl cannot go on; the message is one line a person can act on."""
