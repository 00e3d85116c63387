from flask_wtf import FlaskForm
from wtforms import StringField

from models import Pin, PinNote


class PinForm(FlaskForm):
    url = StringField()
    note = StringField()

    def save(self, board):
        pin = Pin(board_rel=board, url=self.url.data)
        pin.save()
        PinNote(pin_id=pin.id, text=self.note.data).save()  # expect: PL106
        return pin


class NoteForm(FlaskForm):
    text = StringField()

    def save(self, pin_id):
        PinNote(pin_id=pin_id, text=self.text.data).save()  # ok: PL106
