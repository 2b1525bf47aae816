"""National identifiers of electronic certificates (电子证照).

Pure functions, no I/O: the check characters of GB/T 17710 (ISO/IEC 7064) and
GB 32100 (统一社会信用代码), the 证照标识 of the provincial certificate libraries
and GB/T 2260 division codes. ``docs/dianzi-zhengzhao.md`` cites the sources.
"""
