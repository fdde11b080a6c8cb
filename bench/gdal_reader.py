"""A GDAL window reader that keeps its data source open, driven over stdin/stdout.

Runs under whichever Python has GDAL's own bindings (``osgeo``, e.g. Debian's
python3-gdal), which may not be the one running the benchmark. It opens the layer
once; for every line ``minx miny maxx maxy`` it sets a spatial filter, reads the
matching features through GDAL's Arrow stream (every field and the geometry, in
batches) and answers the feature count. An empty line or end of input stops it.

    python3 bench/gdal_reader.py DATASOURCE LAYER
"""

from __future__ import annotations

import sys

from osgeo import gdal, ogr


def main(source: str, layer_name: str) -> int:
    gdal.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # a newer file's version warning is noise here
    dataset = ogr.Open(source)
    layer = dataset.GetLayerByName(layer_name)
    if layer is None:
        print(f"no layer {layer_name} in {source}", file=sys.stderr)
        return 2
    for line in sys.stdin:
        if not line.strip():
            break
        minx, miny, maxx, maxy = (float(v) for v in line.split())
        layer.SetSpatialFilterRect(minx, miny, maxx, maxy)
        count = 0
        for batch in layer.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=NO"]):
            count += len(next(iter(batch.values())))
        sys.stdout.write(f"{count}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
