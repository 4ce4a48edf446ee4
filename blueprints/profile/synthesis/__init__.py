""" "Ma synthèse": the record summary as a generated PDF (A4), and the emergency card (A6).

content.py gathers what a page shows (plain data, through the gate, in the language asked
for), card.py holds what may go on the card, printing.py renders and keeps, routes.py
serves the holder's screens; the professional's PDF is served by blueprints.pro.
"""
