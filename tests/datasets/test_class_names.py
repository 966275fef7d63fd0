"""Tests of reading class names: label maps and id,name CSVs."""
import pytest

from videoalign.datasets.class_names import check_class_names, load_class_names, resolve_class_names


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_label_map(tmp_path):
    path = _write(tmp_path, 'label_map.txt', 'abseiling\nair drumming\n  answering questions \n\n')
    assert load_class_names(path) == ['abseiling', 'air drumming', 'answering questions']


def test_label_map_blank_line_inside(tmp_path):
    path = _write(tmp_path, 'label_map.txt', 'abseiling\n\nair drumming\n')
    with pytest.raises(ValueError, match=r'label_map\.txt, line 2: blank line'):
        load_class_names(path)


@pytest.mark.parametrize('name, header', [('labels.csv', True), ('labels.csv', False), ('labels.txt', True),
                                          ('labels.txt', False)])
def test_csv_with_and_without_header_sorted_by_id(tmp_path, name, header):
    rows = '2,c_name\n0,a name\n1,"b, with comma"\n'
    path = _write(tmp_path, name, ('id,name\n' if header else '') + rows)
    assert load_class_names(path) == ['a name', 'b, with comma', 'c_name']


def test_csv_with_bom_and_crlf(tmp_path):
    path = tmp_path / 'labels.csv'
    path.write_bytes('\ufeffid,name\r\n0,abseiling\r\n1,air drumming\r\n'.encode('utf-8'))
    assert load_class_names(str(path)) == ['abseiling', 'air drumming']


@pytest.mark.parametrize('text, line, message', [
    ('id,name\n0,a\n1,b\n0,c\n', 4, r'duplicate id 0 \(first on line 2\)'),
    ('0,a\n1,b\n3,c\n', 3, r'id 3 is out of range.*\[2\] are missing'),
    ('id,name\n0,a\nx,b\n', 3, r"the id 'x' is not an integer"),
    ('0,a\n1,b,extra\n', 2, r'expected 2 fields'),
    ('0,a\n1,  \n', 2, r'empty class name'),
    ('0,a\n\n1,b\n', 2, r'blank line'),
])
def test_bad_csv_names_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, 'bad.csv', text)
    with pytest.raises(ValueError, match=rf'bad\.csv, line {line}: {message}'):
        load_class_names(path)


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match='no class names'):
        load_class_names(_write(tmp_path, 'empty.txt', '\n'))
    with pytest.raises(ValueError, match='no class names'):
        load_class_names(_write(tmp_path, 'empty.csv', 'id,name\n'))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='class-name file not found.*nope.txt'):
        load_class_names(str(tmp_path / 'nope.txt'))


def test_resolve_class_names(tmp_path):
    names = ['a', 'b']
    resolved = resolve_class_names(names)
    assert resolved == names and resolved is not names
    assert resolve_class_names(('x', 'y')) == ['x', 'y']
    assert resolve_class_names(_write(tmp_path, 'l.txt', 'p\nq\n')) == ['p', 'q']
    assert resolve_class_names(tmp_path / 'l.txt') == ['p', 'q']
    with pytest.raises(ValueError, match='empty'):
        resolve_class_names([])
    with pytest.raises(TypeError, match=r'class_names\[1\]'):
        resolve_class_names(['a', 3])
    with pytest.raises(TypeError, match='must be a list of str'):
        resolve_class_names(5)
    with pytest.raises(TypeError, match="got the file name 'l.txt'; a label map is read by the dataset"):
        check_class_names('l.txt')
