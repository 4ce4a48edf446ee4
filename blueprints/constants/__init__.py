from flask import Blueprint

bp = Blueprint("constants", __name__, url_prefix="/constantes")
