"""The text classifier behind routing suggestions: free text → label, with a probability.

Labels are `part:<code>` / `event:<code>` (classes of the city-management taxonomy) and
`item:<code>` (matter items the taxonomy has no class for: disputes, public order, …).
Character unigrams and bigrams need no word segmentation and survive typos and homophones better
than words (measured: jieba words, alone or added, and longer n-grams were less accurate on the
held-out set); digits are folded to 0 so "编号LD-0231" and "编号LD-1187" are the same feature. A linear
SVM ranks the labels; one temperature, fitted on cross-validated scores, turns its scores into
probabilities, so a confidence threshold (auto-dispatch) means what it says.
"""

import io
import pickle
import re
import unicodedata
import zlib
from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

FORMAT = 1  # bump when the pickled layout below changes: older artifacts are then retrained
MAX_FEATURES = 40_000
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, digits folded, runs of white space as one."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _SPACES.sub(" ", _DIGITS.sub("0", text)).strip()


@dataclass
class TextModel:
    """A fitted vectorizer + classifier, its label list and, per label, the departments the
    platform's own decisions sent it to (counts) and the shipped set's department."""

    vectorizer: TfidfVectorizer
    classifier: CalibratedClassifierCV
    labels: list[str]
    departments: dict[str, dict[str, float]] = field(default_factory=dict)  # the platform's decisions
    shipped_departments: dict[str, str] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__
    format: int = FORMAT

    def rank(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """The k most likely labels with their probabilities, best first."""
        return self.rank_many([text], k)[0]

    def rank_many(self, texts: list[str], k: int = 5) -> list[list[tuple[str, float]]]:
        probabilities = self.classifier.predict_proba(self.vectorizer.transform([normalize(t) for t in texts]))
        classes = self.classifier.classes_
        k = min(k, len(classes))
        top = np.argsort(-probabilities, axis=1)[:, :k]
        return [
            [(self.labels[classes[j]], float(row[j])) for j in order]
            for row, order in zip(probabilities, top, strict=True)
        ]

    def learned_department(self, label: str) -> str | None:
        """The department this city's dispatchers most often sent the label to (None: no decision yet)."""
        counts = self.departments.get(label)
        if not counts:
            return None
        return max(sorted(counts), key=lambda code: counts[code])

    def department_for(self, label: str) -> str | None:
        return self.learned_department(label) or self.shipped_departments.get(label)

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return zlib.compress(buffer.getvalue(), 6)

    @staticmethod
    def loads(blob: bytes) -> "TextModel":
        # Only artifacts this platform wrote into its own database are ever loaded.
        model = pickle.loads(zlib.decompress(bytes(blob)))  # noqa: S301
        if not isinstance(model, TextModel) or model.format != FORMAT:
            raise ValueError("routing model of another format")
        return model


def fit(texts: list[str], labels: list[str], weights=None, departments=None, shipped_departments=None) -> TextModel:
    """Train on labelled texts. weights: per example (the platform's own decisions may count more)."""
    if len(set(labels)) < 2:
        raise ValueError("at least two labels are needed to train")
    # At most MAX_FEATURES n-grams (the most frequent): the model file stays a few MB at any size.
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float32
    )
    matrix = vectorizer.fit_transform([normalize(t) for t in texts])
    label_list = sorted(set(labels))
    index = {label: i for i, label in enumerate(label_list)}
    target = np.array([index[label] for label in labels])
    # Two folds for the temperature (3 fits in all): as accurate as three on the evaluation set, a third faster.
    classifier = CalibratedClassifierCV(LinearSVC(C=0.7, tol=1e-3), cv=2, method="temperature", ensemble=False)
    classifier.fit(matrix, target, sample_weight=None if weights is None else np.asarray(weights, dtype=float))
    return TextModel(vectorizer, classifier, label_list, departments or {}, shipped_departments or {})
