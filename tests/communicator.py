"""A WebsocketCommunicator that hands the application its input as Daphne
does in this project (realtime/server/websocket.py): `receive` is an Inbox's
get. Stream consumers then run StreamConsumer.serve, the loop they run in
production, instead of Channels' own."""

from channels.testing import WebsocketCommunicator

from realtime_project.realtime.inbox import Inbox


class DaphneInput(Inbox):
    __slots__ = ()

    async def put(self, item) -> None:
        # The communicator's send_input awaits put(), as on asyncio.Queue.
        self.put_nowait(item)


class DaphneCommunicator(WebsocketCommunicator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._input_queue = DaphneInput()
