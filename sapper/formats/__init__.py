"""Files in and out of the register: GeoJSON, GeoPackage, Shapefile, KML and CSV.

``import_file`` reads any of them (GDAL through pyogrio; CSV by sapper itself), maps
the fields of another system with a mapping file, reprojects to WGS 84 and writes
all rows or none. ``export_layer`` and ``export_all`` write the register back out, each
file whole or not at all; ``import_all`` reads a whole register back, links kept.
"""

from sapper.formats.exporter import FORMATS, export_all, export_layer
from sapper.formats.importer import BadRows, ImportResult, import_file
from sapper.formats.mapping import Mapping, load_mapping
from sapper.formats.whole import import_all

__all__ = [
    "FORMATS",
    "BadRows",
    "ImportResult",
    "Mapping",
    "export_all",
    "export_layer",
    "import_all",
    "import_file",
    "load_mapping",
]
