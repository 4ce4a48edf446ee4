from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/constantes")
