"""mmengine's DumpResults, written atomically."""
import pickle

from mmengine.evaluator import DumpResults
from mmengine.logging import print_log

from ...registry import METRICS
from ...utils.fileio import atomic_write


@METRICS.register_module()
class AtomicDumpResults(DumpResults):
    """Dump the predictions to a pickle file (``tools/test.py --dump``) through a temporary file that is renamed once
    complete: a kill or a full disk never leaves a truncated dump, and an I/O error names the file.

    Args:
        out_file_path (str): The ``.pkl`` / ``.pickle`` file.
        **kwargs: Other arguments of mmengine's ``DumpResults``.
    """

    def compute_metrics(self, results: list) -> dict:
        """Write the predictions; no metric."""
        with atomic_write(self.out_file_path) as f:
            pickle.dump(results, f, protocol=pickle.HIGHEST_PROTOCOL)
        print_log(f'predictions of {len(results)} samples written to {self.out_file_path}', logger='current')
        return {}
