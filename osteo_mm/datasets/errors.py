"""The one error type of the X-ray data layer."""


class XrayDataError(ValueError):
    """Bad input to the data layer: an unreadable image or a malformed annotation file.

    The message always names the offending file (and the CSV line where there is one) and what
    is wrong with it, so a user can fix the input without reading a traceback.
    """
