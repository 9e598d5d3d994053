"""Small dialogs: who the operator is (asked once per session), and the confirmation of an
approval or revocation, which names the actor and takes a note."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class AskActor(ModalScreen[str | None]):
    """The operator's name, recorded as the actor of every decision of this session."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Your name (recorded as the actor of your decisions):")
            yield Input(placeholder="name", id="actor")
            yield Label("", id="problem", classes="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            self.query_one("#problem", Label).update("A name is needed.")
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDecision(ModalScreen[str | None]):
    """Approve or revoke: Enter confirms with the note typed (revocation needs one), Escape
    cancels. The result is the note ("" for none), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, verb: str, what: str, actor: str, *, note_required: bool) -> None:
        super().__init__()
        self.verb, self.what, self.actor, self.note_required = verb, what, actor, note_required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"{self.verb.capitalize()} {self.what} as {self.actor}?",
                id="question",
                markup=False,
            )
            need = "required" if self.note_required else "optional"
            yield Input(placeholder=f"note ({need})", id="note")
            yield Label("Enter confirms, Escape cancels.", classes="hint")
            yield Label("", id="problem", classes="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if self.note_required and not note:
            self.query_one("#problem", Label).update("A revocation needs a note: say why.")
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        self.dismiss(None)
