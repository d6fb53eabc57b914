#!/usr/bin/python3
"""Writes tests/data/io/real/6149_3j8g_X/X_fitted.cif.gz: the same model as X_fitted.pdb.gz, converted
to mmCIF by python3-gemmi (with _struct_conf and _struct_sheet_range from the HELIX/SHEET records),
so tests can check that PDB and mmCIF input give the same residues and record-based classes.

    /usr/bin/python3 tests/reference/make_cif_fixture.py
"""
import gzip
import os

import gemmi

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, '..', 'data', 'io', 'real', '6149_3j8g_X', 'X_fitted.pdb.gz')


def main():
    st = gemmi.read_structure(SRC)
    st.setup_entities()
    doc = st.make_mmcif_document()
    with gzip.open(SRC.replace('.pdb.gz', '.cif.gz'), 'wt') as out:
        out.write(doc.as_string())


if __name__ == '__main__':
    main()
