"""An HD44780 character LCD without the LCD: RPLCD's own protocol (its `BaseCharLCD` sends
the instructions and characters) into a model of the controller's display memory. The
simulator paints it on the terminal; tests read back what the glass would show."""
from __future__ import annotations

from PIL import Image, ImageDraw
from RPLCD.common import LCD_4BITMODE
from RPLCD.lcd import BaseCharLCD

from .screen import Terminal

CLEAR = 0x01
SET_DDRAM = 0x80


class TerminalLcd(BaseCharLCD):
    data_bus_mode = LCD_4BITMODE

    def __init__(self, terminal: Terminal | None = None, *, cols: int = 20, rows: int = 4) -> None:
        self.terminal = terminal
        self.ddram = bytearray(b" " * 0x80)
        self.address = 0
        self.sent = 0              # characters sent: what an I2C backpack would carry
        super().__init__(cols=cols, rows=rows, auto_linebreaks=False)

    def _init_connection(self) -> None:
        pass

    def _close_connection(self) -> None:
        pass

    def _send_instruction(self, value: int) -> None:
        if value == CLEAR:
            self.ddram[:] = b" " * 0x80
            self.address = 0
        elif value & SET_DDRAM:
            self.address = value & 0x7F

    def _send_data(self, value: int) -> None:
        self.ddram[self.address] = value
        self.address = (self.address + 1) & 0x7F
        self.sent += 1

    def write_string(self, value: str) -> None:
        super().write_string(value)
        if self.terminal is not None:
            self.terminal.paint(self.lines())

    def lines(self) -> list[str]:
        """What the glass shows, row by row (rows 3 and 4 continue rows 1 and 2 in memory)."""
        cols = self.lcd.cols
        starts = (0x00, 0x40, cols, 0x40 + cols)[: self.lcd.rows]
        return [self.ddram[a:a + cols].decode("ascii", "replace") for a in starts]

    def picture(self) -> Image.Image:
        image = Image.new("L", (self.lcd.cols * 6 + 4, self.lcd.rows * 12 + 4), 0)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(self.lines()):
            draw.text((2, 2 + row * 12), line, fill=255)
        return image
