"""Version of videoalign."""

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string such as ``'0.1.0'`` or ``'0.1.0rc1'``.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: Integers for the numeric parts and the string of a release
        candidate suffix, if any.
    """
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        elif 'rc' in part:
            num, rc = part.split('rc')
            info.extend([int(num), f'rc{rc}'])
    return tuple(info)


version_info = parse_version_info(__version__)
