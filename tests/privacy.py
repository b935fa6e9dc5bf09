"""Find a full IP address anywhere: in every column of every table, and in files on disk."""

import ipaddress
from pathlib import Path

from storage.store import Store


def ip_forms(ip: str) -> list[str]:
    """Every textual form a full address could leak in: dotted/colon, integer, hex, packed."""
    address = ipaddress.ip_address(ip)
    number = int(address)
    forms = {str(address), str(number), f"{number:x}", f"{number:X}", f"{number:#x}"}
    if address.version == 6:
        forms.add(address.exploded)
    else:
        forms.add("::ffff:" + str(address))
        forms.add(str(number).rjust(10, "0"))
    return sorted(forms)


def table_hits(store: Store, needles: list[str]) -> list[str]:
    """'table.column' for every column of every table (this database) whose text contains a needle."""
    hits = []
    tables = store.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%%View%%'"
    )
    for (table,) in tables:
        columns = store.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = %(t)s",
            {"t": table},
        )
        for column, column_type in columns:
            # Aggregate states hold only hashes and counts; their finalised values are what can be read back.
            if column_type.startswith("AggregateFunction"):
                text = f"toString(finalizeAggregation({column}))"
            else:
                text = f"toString({column})"
            for needle in needles:
                rows = store.query(
                    f"SELECT count() FROM {table} WHERE positionCaseInsensitive({text}, %(n)s) > 0",
                    {"n": needle},
                )
                if rows[0][0]:
                    hits.append(f"{table}.{column} contains {needle}")
    return hits


def file_hits(root: Path, needles: list[str]) -> list[str]:
    """Files under root whose bytes contain a needle (text, or the 4/16 packed address bytes)."""
    encoded = [n.encode() for n in needles]
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        lowered = data.lower()
        for needle in encoded:
            if needle.lower() in lowered:
                hits.append(f"{path} contains {needle.decode()}")
    return hits


def packed_forms(ip: str) -> list[bytes]:
    """The address as raw network-order bytes."""
    return [ipaddress.ip_address(ip).packed]
