"""The README's quickstart (kept equal to it by tests/app/test_quickstart.py)."""

from taskkit_core import App, Retry

app = App()  # the backend: TASKKIT_URL, else a SQLite file taskkit.db here


@app.task(retry=Retry(max_attempts=3))
def add(a: int, b: int) -> int:
    return a + b


if __name__ == "__main__":
    result = add.delay(1, 2)  # queued; typed: add.delay("1", 2) is an error
    with app.start_threads():  # worker threads in this process
        print(result.get(timeout=10))  # 3
