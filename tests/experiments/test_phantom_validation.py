"""Toy-scale run of the phantom validation driver (untrained models, tiny phantoms)."""
import numpy as np
import pandas as pd

from osteo_mm.experiments.phantom_validation import PhantomValidation, md_table, paired


def test_paired_test_on_identical_and_shifted_scores():
    a = pd.Series([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], index=list('abcdefg'))
    assert paired(a, a)['p'] == 1.0
    shifted = paired(a + 1.0, a)
    assert shifted['difference'] == 1.0 and shifted['n'] == 7 and shifted['p'] < 0.05


def test_toy_validation_writes_every_table_with_priors_and_random_rows(tmp_path):
    run = PhantomValidation(str(tmp_path), num_patients=40, phantom_size=64, img_size=32,
                            epochs=0, controls=2, batch_size=8, faithfulness_steps=2)
    path = run.run()
    text = open(path).read()
    for heading in ('## (i)', '## (ii)', 'dataset ROI prior', 'centre prior',
                    'uniform map (chance)', 'gradcam (random weights)', 'Grad-CAM, random model',
                    'marker (reference)'):
        assert heading in text, heading
    effects = pd.read_csv(tmp_path / 'i_interventions.csv')
    reference = effects[effects['fill'] == 'reference']
    # On the ROI-only phantom the reference film equals the original outside the ROI, so
    # every control region's effect is exactly zero: an oracle of the intervention's plumbing.
    assert len(reference) == 2 and (reference['control effect'] == 0).all()
    methods = pd.read_csv(tmp_path / 'i_methods.csv', index_col=0)
    uniform = methods.loc['uniform map (chance)']
    assert abs(uniform['saliency_auroc'] - 0.5) < 1e-6
    roi = methods.loc['dataset ROI prior']
    assert roi['energy_pointing_game'] > uniform['energy_pointing_game']
    tests = pd.read_csv(tmp_path / 'ii_tests.csv')
    tested = tests.dropna(subset=['p'])
    assert len(tested) and tested['p_holm'].between(0, 1).all()
    assert (tested['p_holm'] >= tested['p'] - 1e-12).all()
    assert np.isfinite(pd.read_csv(tmp_path / 'ii_interventions.csv')['region effect']).any()
    assert '| --- |' in md_table(methods)
    # Faithfulness of the trained maps and of the priors, under the same model.
    assert methods[['deletion_auc', 'insertion_auc']].loc['dataset ROI prior'].notna().all()
    assert methods[['deletion_auc', 'insertion_auc']].loc['gradcam (trained)'].between(0, 1).all()


def test_vit_base_config_ranks_the_attention_rules_and_trains_only_what_part_i_needs(tmp_path):
    import os.path as osp
    base = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'vit',
                    'deit-tiny_phantom-shoulder-binary_64px-5e-cpu.py')
    run = PhantomValidation(str(tmp_path), num_patients=40, phantom_size=64, img_size=64,
                            epochs=0, controls=2, batch_size=8, faithfulness_steps=2,
                            methods=['attention-rollout', 'transformer-attribution'],
                            base_config=osp.abspath(base))
    text = open(run.run(['i'])).read()
    assert 'attention-rollout (trained)' in text and 'transformer-attribution (trained)' in text
    assert '## (ii)' not in text
    assert "VisionTransformer" in str(run.cfgs['clean'].model)
    assert (tmp_path / 'untrained_clean.pth').exists()
    assert not (tmp_path / 'untrained_shortcut.pth').exists()  # (ii) not asked: not built
