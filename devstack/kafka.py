"""Apache Kafka for the local stack: one KRaft node (broker and controller in one process),
its log on disk under `.local/kafka/`, and the admin calls the stack and its tests share.

The broker is Apache Kafka itself, the jars `make setup` fetched from Maven Central
(`jvm/kafka/pom.xml`), run as `kafka.Kafka` with a generated `server.properties`, the way
`bin/kafka-server-start.sh` runs it. The storage is formatted once (`kafka-storage.sh
format --standalone`); the data survives restarts, like a production broker's.

Topics are never auto-created: whoever writes to a topic creates it first with an explicit
partition count through the admin API (`create_topic`), as on a production cluster.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JARS = ROOT / ".local" / "jvm" / "kafka"
HOME = ROOT / ".local" / "kafka"
DATA = HOME / "data"
CONFIG = HOME / "server.properties"
# The partition count of the platform's topic; tests make topics of their own the same way.
PARTITIONS = 4
ADMIN_TIMEOUT_S = 30.0


def server_properties(host: str, port: int, controller_port: int) -> str:
    """A single-node KRaft configuration: every internal topic with one replica."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={host}:{controller_port}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={DATA}",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Fewer partitions than the 50 of a cluster's internal topics: one node on a laptop
            # creates them on the first consumer group or transaction, and 50 take seconds.
            "offsets.topic.num.partitions=4",
            "transaction.state.log.num.partitions=4",
            "share.coordinator.state.topic.num.partitions=1",
            # One node: a consumer group need not wait for more members to join.
            "group.initial.rebalance.delay.ms=0",
            # Keep the seeded window (weeks of events) whatever its age: the demo's events are
            # dated in the past, and time-based retention would delete them at once.
            "log.retention.ms=-1",
            # The seed replays synthetic arrival times, some after now (the last day's late
            # events): a broker's default refuses timestamps over 1 h ahead (INVALID_TIMESTAMP).
            "log.message.timestamp.after.max.ms=9223372036854775807",
            "",
        ]
    )


def _java(main: str, *args: str, heap: str = "512m") -> list[str]:
    if not any(JARS.glob("kafka_2.13-*.jar")):
        raise RuntimeError(f"Apache Kafka's jars are not in {JARS}: run `make setup` (it fetches jvm/kafka/pom.xml)")
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    # INFO from the broker, without the configuration dump and per-partition state lines.
    logging = [
        "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.config=warn",
        "-Dorg.slf4j.simpleLogger.log.state.change.logger=warn",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
    ]
    return [str(java), f"-Xmx{heap}", *logging, "-cp", f"{JARS}/*", main, *args]


def start_command(host: str, port: int) -> list[str]:
    """Write the configuration, format the storage on first use, then the broker's command."""
    import subprocess

    HOME.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(server_properties(host, port, port + 1))
    if not (DATA / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(
            _java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(CONFIG), "--standalone"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return _java("kafka.Kafka", str(CONFIG))


def _admin(config: dict):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": config["bootstrap.servers"], "log_level": 0})


def create_topic(config: dict, topic: str, partitions: int = PARTITIONS) -> bool:
    """Create `topic` with `partitions` unless it exists; True if this call created it.

    An existing topic with another partition count is an error: the landing's offset ranges
    and the tests' expectations are per partition."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    admin = _admin(config)
    future = admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=ADMIN_TIMEOUT_S)[topic]
    created = True
    try:
        future.result(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
        created = False
    existing = len(admin.list_topics(topic, timeout=ADMIN_TIMEOUT_S).topics[topic].partitions)
    if existing != partitions:
        raise RuntimeError(f"kafka topic {topic} has {existing} partitions, expected {partitions}")
    _wait_for_leaders(admin, topic, partitions)
    return created


def _wait_for_leaders(admin, topic: str, partitions: int) -> None:
    """Until every partition's leader answers a ListOffsets request: a topic just created is
    in the metadata a moment before its leaders serve it ('Not leader for partition')."""
    from confluent_kafka import KafkaException, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while True:
        request = {TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)}
        try:
            for future in admin.list_offsets(request, request_timeout=ADMIN_TIMEOUT_S).values():
                future.result()
            return
        except KafkaException as exc:
            if time.monotonic() > deadline:
                waited = f"{ADMIN_TIMEOUT_S:.0f}s"
                raise RuntimeError(f"kafka topic {topic}: leaders not ready after {waited}: {exc}") from exc
            time.sleep(0.1)


def delete_topics(config: dict, topics: list[str], groups: list[str] = ()) -> None:
    """Delete `topics` and consumer `groups` (those that exist), waiting until they are gone."""
    from confluent_kafka import KafkaError, KafkaException

    admin = _admin(config)
    futures = list(admin.delete_topics(list(topics), operation_timeout=ADMIN_TIMEOUT_S).values()) if topics else []
    if groups:
        futures += list(admin.delete_consumer_groups(list(groups), request_timeout=ADMIN_TIMEOUT_S).values())
    for future in futures:
        try:
            future.result(timeout=ADMIN_TIMEOUT_S)
        except KafkaException as exc:
            absent = (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.GROUP_ID_NOT_FOUND)
            if exc.args[0].code() not in absent:
                raise
    # Deletion completes in the background: a topic of the same name can be created only
    # once the broker's metadata no longer lists it.
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while set(topics) & set(admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics):
        if time.monotonic() > deadline:
            raise RuntimeError(f"kafka topics {sorted(topics)} still listed {ADMIN_TIMEOUT_S:.0f}s after deletion")
        time.sleep(0.2)
