"""kombu's filesystem transport, made safe for several processes sending and consuming at once.

kombu 5.7's filesystem transport writes each message file in place under its final name,
and its consumer lists the folder, moves a file away and json-decodes it. Measured under
API load (`make run`): a consumer took a file before its writer had finished, the decode
raised JSONDecodeError, and Celery stopped the worker ("Unrecoverable error"). Here:

1. A sender writes under a dot-prefixed temporary name in the same folder (which no
   reader looks at) and `os.replace()`s it to the final name: a message is visible whole
   or not at all.
2. A reader claims a file by renaming it to a dot-prefixed name in the same folder, which
   is atomic: of two consumers only one gets it, the other skips it (a file that vanishes
   is not an error).
3. A file that cannot be decoded all the same (a crash mid-write from an older sender, a
   stray file) is moved into `bad/` beside the queue with one log line, and the reader goes
   on to the next message instead of taking the worker down.

The folder settings, names and polling are kombu's, so a queue folder written by kombu's
own transport is read here as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

BAD_FOLDER = "bad"
# Prefix of names in the queue folder that are not (yet, or any longer) messages: readers skip them.
HIDDEN = "."


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Write `payload` under a hidden name, then rename it into the queue in one step."""
        filename = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, filename)
        temporary = os.path.join(self.data_folder_out, f"{HIDDEN}{filename}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        """Claim, read and decode the oldest message of `queue`, skipping what others took or broke."""
        suffix = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(HIDDEN) or filename.partition(".")[2] != suffix:
                continue
            source = os.path.join(self.data_folder_in, filename)
            claimed = os.path.join(self.data_folder_in, f"{HIDDEN}{filename}.claimed")
            try:
                os.rename(source, claimed)
            except FileNotFoundError:
                continue  # another consumer took it
            try:
                with open(claimed, "rb") as handle:
                    payload = handle.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            try:
                message = loads(bytes_to_str(payload))
                # What the worker does with it next, so a well-formed JSON file that is not a
                # kombu message (no properties, a body that is not base64) is caught here too.
                self.Message(message, channel=self)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self._set_aside(claimed, filename, exc)
                continue
            self._done_with(claimed, filename)
            return message
        raise Empty()

    def _done_with(self, claimed: str, filename: str) -> None:
        try:
            if self.store_processed:
                os.replace(claimed, os.path.join(self.processed_folder, filename))
            else:
                os.unlink(claimed)
        except OSError as exc:
            raise ChannelError(f"Cannot remove file {claimed!r} from queue.") from exc

    def _set_aside(self, claimed: str, filename: str, exc: Exception) -> None:
        folder = os.path.join(self.data_folder_in, BAD_FOLDER)
        target = os.path.join(folder, filename)
        try:
            os.makedirs(folder, exist_ok=True)
            os.replace(claimed, target)
        except OSError:
            target = "(could not be moved; removed)"
            with contextlib.suppress(OSError):
                os.unlink(claimed)
        logger.error("broker: skipped undecodable message %s (%s); set aside in %s", filename, exc, target)

    def _size(self, queue):
        suffix = f"{queue}.msg"
        return sum(
            1
            for name in os.listdir(self.data_folder_in)
            if not name.startswith(HIDDEN) and name.partition(".")[2] == suffix
        )

    def _purge(self, queue):
        suffix = f"{queue}.msg"
        count = 0
        for name in os.listdir(self.data_folder_in):
            if name.startswith(HIDDEN) or name.partition(".")[2] != suffix:
                continue
            try:
                os.unlink(os.path.join(self.data_folder_in, name))
            except FileNotFoundError:
                continue  # consumed meanwhile
            count += 1
        return count


class Transport(filesystem.Transport):
    """kombu's filesystem transport with atomic sends and a reader that survives bad files."""

    Channel = Channel
    # The broker state is per transport class in kombu; keep this class's apart from kombu's.
    global_state = filesystem.virtual.BrokerState()
    # A folder has no host: without this kombu warns "No hostname was supplied" on every publish.
    default_connection_params = {"port": None, "hostname": None}

    def drain_events(self, connection, timeout=None):
        """Wait for a message as kombu does, but give up at once when the worker is stopping.

        A solo or prefork worker on this transport waits in here for up to two seconds
        (Celery's synloop timeout) polling the folder, and looks at its shutdown flag only
        after that: each warm shutdown took 2.3 s longer than it needed. The worker's
        SIGTERM handler sets `opsconsole.shutdown` (opsconsole/celery.py); between polls
        this checks it and returns control to the loop, which then stops.
        """
        from opsconsole import shutdown

        started = monotonic()
        while True:
            if shutdown.stopping():
                raise TimeoutError()
            wait = self.polling_interval if timeout is None else min(self.polling_interval, timeout)
            try:
                return super().drain_events(connection, timeout=wait)
            except TimeoutError:
                if timeout is not None and monotonic() - started >= timeout:
                    raise
