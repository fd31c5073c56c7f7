"""Reading a returned workbook, in one pass (design decision 11).

- :mod:`nianbao.read.package`: what the file really is, and the safety checks (zip structure,
  sizes and ratios, DOCTYPE/entities, macros, OLE2 via olefile) on the one open archive, which
  then yields every XML part inflated once;
- :mod:`nianbao.read.parts`: each part parsed once (lxml) into the reading model;
  :mod:`nianbao.read.cells`: a sheet of plain values (the _meta sheet) read from its bytes;
- :mod:`nianbao.read.model`: the model itself (sheets, cells, names, protection, validations,
  properties) and its value semantics; :mod:`nianbao.read.names`: where a defined name points;
- :mod:`nianbao.read.reader`: the model of a nianbao template → Submission and the Reading
  that drift detection uses.

Nothing here imports from the check stage (drift, rules evaluation, findings).
"""
